import os from 'node:os';
import type { Executor } from '../db/store';
import { auditRepository } from './auditRepository';

export interface AuditEntry {
  id: number;
  at: number;
  organiserId: number | null;
  organiserEmail: string | null;
  /** The user and machine of a command-line tool's run ("ana@campaign-host"), when it acted. */
  commandLine: string | null;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
}

export interface NewAuditEntry {
  organiserId: number | null;
  /** Who ran a command-line tool (see commandLineUser): the actor when no organiser is logged in. */
  commandLine?: string;
  action: string;
  subject?: string | null;
  details?: Record<string, unknown>;
}

/**
 * The command-line tools act for whoever runs them on the server, who has no console account:
 * their entries name that person as the system knows them, `user@host`.
 */
export function commandLineUser(): string {
  let user: string | undefined;
  try {
    user = os.userInfo().username;
  } catch {
    // A container may run as a user with no entry in /etc/passwd.
    user = process.env.USER ?? process.env.LOGNAME;
  }
  return `${user || `uid ${process.getuid?.() ?? '?'}`}@${os.hostname()}`;
}

/** The fields of an edit whose value changed, each as { from, to }: what an entry of an edit records. */
export function changes<T extends object>(before: T, after: T): Record<string, { from: unknown; to: unknown }> {
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as Array<keyof T & string>) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key]))
      changed[key] = { from: before[key], to: after[key] };
  }
  return changed;
}

// Whatever a caller passes, these never reach the log.
const secretKey = /pass(word)?|_csrf|token|secret/i;

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key]) => !secretKey.test(key))
        .map(([key, v]) => [key, scrub(v)]),
    );
  }
  return value;
}

const commandLineKey = 'commandLine';

export type AuditLog = ReturnType<typeof createAuditLog>;

/** Every organiser action, for admins to read. */
export function createAuditLog(store: Executor, clock: () => number = Date.now) {
  return {
    /** Records an entry, in the transaction `tx` when the action's own writes are in one. */
    async record(entry: NewAuditEntry, tx: Executor = store): Promise<void> {
      // The command line's user rides in the details (the table has no column for it).
      const details = { ...(scrub(entry.details ?? {}) as Record<string, unknown>) };
      if (entry.commandLine) details[commandLineKey] = entry.commandLine;
      await auditRepository(tx).insert({
        at: clock(),
        organiserId: entry.organiserId,
        action: entry.action,
        subject: entry.subject ?? null,
        details: JSON.stringify(details),
      });
    },
    /** Newest first, `limit` entries older than the entry `before`. */
    async list(options: { before?: number; limit: number }): Promise<AuditEntry[]> {
      const rows = await auditRepository(store).page(options.before ?? Number.MAX_SAFE_INTEGER, options.limit);
      return rows.map((r) => {
        const { [commandLineKey]: commandLine, ...details } = JSON.parse(r.details) as Record<string, unknown>;
        return { ...r, commandLine: typeof commandLine === 'string' ? commandLine : null, details };
      });
    },
  };
}
