import { commandLineUser, type AuditLog } from '../admin/auditLog';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { createServices } from '../services';
import { IllegalTransitionError } from './letterStates';
import type { LettersService } from './lettersService';

const usage = `Usage:
  npm run letters -- --held           list the letters held for review
  npm run letters -- --release <id>   send a held letter (it goes out through the outbox)
  npm run letters -- --drop <id>      never send a held letter
  npm run letters -- --ask-replies    ask the writers whose letters are due "Did you get a reply?"
                                      (what the server's hourly sweep does; safe beside it)`;

function oneLine(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Held letters from a terminal: the same service calls as the organiser console's, with no SQL to
 * type. Returns the process exit code.
 */
export async function runLettersCli(
  args: string[],
  letters: LettersService,
  print: (line: string) => void,
  audit?: AuditLog,
): Promise<number> {
  const [command, value] = args;
  // In the audit log as the console's actions are, done by whoever ran the command.
  const record = async (action: string, details: Record<string, unknown>, subject?: string) =>
    audit?.record({ organiserId: null, commandLine: commandLineUser(), action, subject, details });
  try {
    if (command === '--held') {
      const held = await letters.held();
      if (held.length === 0) print('No letters are held for review.');
      for (const l of held) {
        print(
          `#${l.id}  ${new Date(l.createdAt).toISOString().slice(0, 16).replace('T', ' ')}  ${l.demandSlug}  ` +
            `${l.country}  ${l.name}  (${l.holdReason ?? 'held'})  “${oneLine(l.ownWords)}”`,
        );
      }
      await record('letters.held', { count: held.length });
      return 0;
    }
    if (command === '--ask-replies' && !value) {
      const { asked, reminded } = await letters.askReplies();
      print(`Asked ${asked} writers whether they got a reply, and reminded ${reminded}.`);
      return 0;
    }
    if ((command === '--release' || command === '--drop') && value && /^\d+$/.test(value)) {
      const id = Number(value);
      if (command === '--release') {
        const state = await letters.release(id);
        print(state === 'ready' ? `Letter #${id} released: it is queued for delivery.` : `Letter #${id} is ${state}.`);
        await record('letters.release', { state }, `letter #${id}`);
      } else {
        const state = await letters.drop(id);
        print(`Letter #${id} dropped: it will not be sent.`);
        await record('letters.drop', { state }, `letter #${id}`);
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

async function main(): Promise<number> {
  const config = loadConfig();
  const services = await createServices(config, createLogger('warn'));
  try {
    return await runLettersCli(
      process.argv.slice(2),
      services.letters,
      (line) => console.log(line),
      services.admin.audit,
    );
  } finally {
    await services.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof ConfigError ? `Cannot start: ${error.message}` : error);
      process.exit(1);
    },
  );
}
