import type { Database } from '../db/database';

export interface AuditEntry {
  id: number;
  at: number;
  organiserId: number | null;
  organiserEmail: string | null;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
}

export interface NewAuditEntry {
  organiserId: number | null;
  action: string;
  subject?: string | null;
  details?: Record<string, unknown>;
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

export type AuditLog = ReturnType<typeof createAuditLog>;

/** Every organiser action, for admins to read. */
export function createAuditLog(db: Database, clock: () => number = Date.now) {
  const insert = db.prepare(
    'INSERT INTO audit_log (at, organiser_id, action, subject, details) VALUES (?, ?, ?, ?, ?)',
  );
  const page = db.prepare(
    `SELECT a.id, a.at, a.organiser_id AS organiserId, o.email AS organiserEmail, a.action, a.subject, a.details
     FROM audit_log a LEFT JOIN organisers o ON o.id = a.organiser_id
     WHERE a.id < @before ORDER BY a.id DESC LIMIT @limit`,
  );

  return {
    record(entry: NewAuditEntry): void {
      insert.run(
        clock(),
        entry.organiserId,
        entry.action,
        entry.subject ?? null,
        JSON.stringify(scrub(entry.details ?? {})),
      );
    },
    /** Newest first, `limit` entries older than the entry `before`. */
    list(options: { before?: number; limit: number }): AuditEntry[] {
      const rows = page.all({ before: options.before ?? Number.MAX_SAFE_INTEGER, limit: options.limit }) as Array<
        Omit<AuditEntry, 'details'> & { details: string }
      >;
      return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
    },
  };
}
