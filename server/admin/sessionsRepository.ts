import { prepared, type Executor, type Params } from '../db/store';

const get = prepared((qb, p: Params<{ sid: string; now: number }>) =>
  qb.selectFrom('sessions').select('data').where('sid', '=', p.sid).where('expires_at', '>', p.now),
);
const set = prepared((qb, p: Params<{ sid: string; data: string; expiresAt: number }>) =>
  qb
    .insertInto('sessions')
    .values({ sid: p.sid, data: p.data, expires_at: p.expiresAt })
    .onConflict((oc) =>
      oc
        .column('sid')
        .doUpdateSet((eb) => ({ data: eb.ref('excluded.data'), expires_at: eb.ref('excluded.expires_at') })),
    ),
);
const touch = prepared((qb, p: Params<{ sid: string; expiresAt: number }>) =>
  qb.updateTable('sessions').set({ expires_at: p.expiresAt }).where('sid', '=', p.sid),
);
const destroy = prepared((qb, p: Params<{ sid: string }>) => qb.deleteFrom('sessions').where('sid', '=', p.sid));
const sweep = prepared((qb, p: Params<{ now: number }>) => qb.deleteFrom('sessions').where('expires_at', '<=', p.now));
const clear = prepared((qb) => qb.deleteFrom('sessions'));
const live = prepared((qb, p: Params<{ now: number }>) =>
  qb
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('expires_at', '>', p.now),
);

export type SessionsRepository = ReturnType<typeof sessionsRepository>;

/** The console's sessions (express-session's data, as JSON), each with the time it ends. */
export function sessionsRepository(db: Executor) {
  return {
    async get(sid: string, now: number): Promise<string | undefined> {
      return (await db.first(get, { sid, now }))?.data;
    },
    async set(sid: string, data: string, expiresAt: number): Promise<void> {
      await db.run(set, { sid, data, expiresAt });
    },
    async touch(sid: string, expiresAt: number): Promise<void> {
      await db.run(touch, { sid, expiresAt });
    },
    async destroy(sid: string): Promise<void> {
      await db.run(destroy, { sid });
    },
    /** Deletes the sessions that have ended; answers how many. */
    sweep: (now: number): Promise<number> => db.run(sweep, { now }),
    async clear(): Promise<void> {
      await db.run(clear);
    },
    async length(now: number): Promise<number> {
      return (await db.first(live, { now }))?.n ?? 0;
    },
  };
}
