import { sql } from 'kysely';
import { prepared, type Executor } from '../db/store';

const ping = prepared(() => sql<{ ok: number }>`SELECT 1 AS ok`);
const migrations = prepared((qb) => qb.selectFrom('schema_migrations').select('version').orderBy('version'));
const signaturesByState = prepared((qb) =>
  qb
    .selectFrom('signatures as s')
    .innerJoin('petitions as p', 'p.id', 's.petition_id')
    .select(['p.slug as petition', 's.state'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy(['p.slug', 's.state']),
);
const outboxByState = prepared((qb) =>
  qb
    .selectFrom('outbox')
    .select(['kind', 'state'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy(['kind', 'state']),
);
const oldestQueued = prepared((qb) =>
  qb
    .selectFrom('outbox')
    .select((eb) => eb.fn.min<number | null>('created_at').as('at'))
    .where('state', 'in', ['queued', 'sending']),
);
const batchesByState = prepared((qb) =>
  qb
    .selectFrom('batches')
    .select('state')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy('state'),
);

/**
 * What health checks and metrics read. Unlike page views these may count rows: a scrape comes
 * every 15 s or so, and each query runs on an index or a small table.
 */
export function opsRepository(db: Executor) {
  return {
    async ping(): Promise<boolean> {
      return (await db.first(ping))?.ok === 1;
    },
    async appliedMigrations(): Promise<number[]> {
      return (await db.all(migrations)).map((r) => r.version);
    },
    signaturesByState: () => db.all(signaturesByState),
    outboxByState: () => db.all(outboxByState),
    async oldestQueuedAt(): Promise<number | null> {
      return (await db.first(oldestQueued))?.at ?? null;
    },
    batchesByState: () => db.all(batchesByState),
  };
}

export type OpsRepository = ReturnType<typeof opsRepository>;
