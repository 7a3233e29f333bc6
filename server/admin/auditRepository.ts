import { prepared, type Executor, type Params } from '../db/store';

export interface AuditRecord {
  at: number;
  organiserId: number | null;
  action: string;
  subject: string | null;
  /** JSON text, scrubbed by the audit log before it gets here. */
  details: string;
}

const insert = prepared((qb, p: Params<AuditRecord>) =>
  qb.insertInto('audit_log').values({
    at: p.at,
    organiser_id: p.organiserId,
    action: p.action,
    subject: p.subject,
    details: p.details,
  }),
);
const page = prepared((qb, p: Params<{ before: number; limit: number }>) =>
  qb
    .selectFrom('audit_log as a')
    .leftJoin('organisers as o', 'o.id', 'a.organiser_id')
    .select(['a.id', 'a.at', 'a.organiser_id as organiserId', 'o.email as organiserEmail', 'a.action', 'a.subject'])
    .select('a.details')
    .where('a.id', '<', p.before)
    .orderBy('a.id', 'desc')
    .limit(p.limit),
);

/** A row as an erasure rewrites it: details as stored (JSON text). */
export interface StoredAuditRow {
  id: number;
  action: string;
  subject: string | null;
  details: string;
}

const auditPage = prepared((qb, p: Params<{ afterId: number; limit: number }>) =>
  qb
    .selectFrom('audit_log')
    .select(['id', 'action', 'subject', 'details'])
    .where('id', '>', p.afterId)
    .orderBy('id')
    .limit(p.limit),
);
const updateAudit = prepared((qb, p: Params<{ id: number; subject: string | null; details: string }>) =>
  qb.updateTable('audit_log').set({ subject: p.subject, details: p.details }).where('id', '=', p.id),
);

export type AuditRepository = ReturnType<typeof auditRepository>;

/** The audit log's rows (what goes in them, and how they read, is auditLog's business). */
export function auditRepository(db: Executor) {
  return {
    async insert(entry: AuditRecord): Promise<void> {
      await db.run(insert, entry);
    },
    /** Newest first, `limit` entries with an id below `before`, with the organiser's address. */
    page(before: number, limit: number) {
      return db.all(page, { before, limit });
    },
    /** Entries after `afterId`, in id order, `limit` at a time. */
    after(afterId: number, limit: number): Promise<StoredAuditRow[]> {
      return db.all(auditPage, { afterId, limit });
    },
    /** An entry's subject and details replaced (an erasure). */
    async rewrite(id: number, subject: string | null, details: string): Promise<void> {
      await db.run(updateAudit, { id, subject, details });
    },
  };
}
