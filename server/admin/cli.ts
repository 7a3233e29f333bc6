/**
 * npm run admin:create -- --email you@example.org [--role admin|organiser|viewer]
 *
 * Creates a console account. The password is read from standard input when it is not a terminal
 * (printf '%s\n' "$PASSWORD" | npm run admin:create -- --email …), and asked for, without echo,
 * when it is. It never comes from the command line, where `ps` and shell history would keep it.
 */
import { parseArgs } from 'node:util';
import { loadConfigOr } from '../config';
import { databaseName, openStore } from '../db/open';
import { accountsRepository } from './accountsRepository';
import { commandLineUser, createAuditLog } from './auditLog';
import { createAccountsService, passwordProblem } from './accountsService';
import { isRole, roles } from './roles';

const messages: Record<string, string> = {
  'admin.accounts.errors.emailBlank': 'Give an email address with --email.',
  'admin.accounts.errors.emailInvalid': 'The email address is not in a correct format, like name@example.org.',
  'admin.accounts.errors.emailTaken': 'That email address already has an account.',
  'admin.accounts.errors.passwordTooShort': 'The password must be at least 12 characters long.',
  'admin.accounts.errors.passwordTooLong': 'The password must be 256 characters or fewer.',
  'admin.accounts.errors.roleInvalid': `The role must be one of: ${roles.join(', ')}.`,
};

function fail(message: string): never {
  process.stderr.write(`admin:create: ${message}\n`);
  process.exit(1);
}

async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // The first line is the password; a trailing newline from printf or echo is not part of it.
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** Asks on the terminal with echo off: raw mode, so typed characters are never printed. */
function prompt(question: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let answer = '';
    const onData = (input: string) => {
      for (const ch of input) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return resolve(answer);
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          process.stderr.write('\n');
          process.exit(130); // Ctrl-C
        }
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: { email: { type: 'string' }, role: { type: 'string', default: 'admin' } },
      strict: true,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\nUsage: npm run admin:create -- --email <address> [--role ${roles.join('|')}]`);
  }
  if (!args.email) fail(`Give an email address: npm run admin:create -- --email <address> [--role ${roles.join('|')}]`);
  if (!isRole(args.role)) fail(messages['admin.accounts.errors.roleInvalid']!);

  let password: string;
  if (process.stdin.isTTY) {
    password = await prompt('Password (at least 12 characters): ');
    const problem = passwordProblem(password);
    if (problem) fail(messages[problem]!);
    if ((await prompt('The same password again: ')) !== password) fail('The two passwords are not the same.');
  } else {
    password = await readPiped();
    if (!password)
      fail('No password on standard input (an unset variable piped in?). Run it in a terminal to be asked.');
  }

  const config = loadConfigOr(fail);
  const { store } = await openStore(config).catch((error: Error) =>
    fail(`The database ${databaseName(config)} could not be opened: ${error.message}`),
  );
  try {
    const accounts = createAccountsService({ repo: accountsRepository(store), settings: config.admin });
    const result = await accounts.create({ email: args.email, password, role: args.role });
    if (!result.ok)
      fail(
        Object.values(result.errors)
          .map((key) => messages[key!] ?? key)
          .join(' '),
      );
    await createAuditLog(store).record({
      organiserId: null,
      commandLine: commandLineUser(),
      action: 'account.create',
      subject: args.email.trim().toLowerCase(),
      details: { role: args.role },
    });
    process.stdout.write(
      `Created the ${args.role} account ${args.email.trim().toLowerCase()} in ${databaseName(config)}.\n`,
    );
  } finally {
    await store.close();
  }
}

void main();
