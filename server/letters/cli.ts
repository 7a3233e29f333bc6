import { commandLineUser, type AuditLog } from '../admin/auditLog';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { createServices } from '../services';
import { IllegalTransitionError } from './letterStates';
import type { LettersService } from './lettersService';

const usage = `Usage:
  npm run letters -- --held           list the letters held for review
  npm run letters -- --release <id>   send a held letter (it goes out through the outbox)
  npm run letters -- --drop <id>      never send a held letter`;

function oneLine(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Held letters from a terminal: the same service calls as the organiser console's, with no SQL to
 * type. Returns the process exit code.
 */
export function runLettersCli(
  args: string[],
  letters: LettersService,
  print: (line: string) => void,
  audit?: AuditLog,
): number {
  const [command, value] = args;
  // In the audit log as the console's actions are, done by whoever ran the command.
  const record = (action: string, details: Record<string, unknown>, subject?: string) =>
    audit?.record({ organiserId: null, commandLine: commandLineUser(), action, subject, details });
  try {
    if (command === '--held') {
      const held = letters.held();
      if (held.length === 0) print('No letters are held for review.');
      for (const l of held) {
        print(
          `#${l.id}  ${new Date(l.createdAt).toISOString().slice(0, 16).replace('T', ' ')}  ${l.demandSlug}  ` +
            `${l.country}  ${l.name}  (${l.holdReason ?? 'held'})  “${oneLine(l.ownWords)}”`,
        );
      }
      record('letters.held', { count: held.length });
      return 0;
    }
    if ((command === '--release' || command === '--drop') && value && /^\d+$/.test(value)) {
      const id = Number(value);
      if (command === '--release') {
        const state = letters.release(id);
        print(state === 'ready' ? `Letter #${id} released: it is queued for delivery.` : `Letter #${id} is ${state}.`);
        record('letters.release', { state }, `letter #${id}`);
      } else {
        const state = letters.drop(id);
        print(`Letter #${id} dropped: it will not be sent.`);
        record('letters.drop', { state }, `letter #${id}`);
      }
      return 0;
    }
    print(usage);
    return 2;
  } catch (error) {
    if (error instanceof IllegalTransitionError) {
      print(`Letter #${value} is ${error.from}, not held: nothing changed.`);
      return 1;
    }
    print(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

if (require.main === module) {
  let code = 1;
  try {
    const config = loadConfig();
    const services = createServices(config, createLogger('warn'));
    code = runLettersCli(process.argv.slice(2), services.letters, (line) => console.log(line), services.admin.audit);
    void services.close().then(() => process.exit(code));
  } catch (error) {
    console.error(error instanceof ConfigError ? `Cannot start: ${error.message}` : error);
    process.exit(1);
  }
}
