import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { appRoot } from '../../server/config';
import { migrationFiles } from '../../server/db/postgresStore';
import { createGroupWriter } from '../../server/db/groupWriter';
import { prepared, type Params } from '../../server/db/store';
import { createTestStore, postgresUrl, type TestStore } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';

describe(`the data layer on ${engine}`, () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await createTestStore();
    await t.store.run(t.store.qb.insertInto('countries').values([{ code: 'FR' }, { code: 'DE' }]));
  });
  afterAll(async () => t.close());

  const insertOrganiser = prepared((qb, p: Params<{ email: string; at: number }>) =>
    qb
      .insertInto('organisers')
      .values({ email: p.email, password_hash: 'x', role: 'viewer', created_at: p.at })
      .returning('id'),
  );
  const organiserByEmail = prepared((qb, p: Params<{ email: string }>) =>
    qb.selectFrom('organisers').select(['id', 'email', 'created_at', 'locked_until']).where('email', '=', p.email),
  );

  it('applies every migration once and records it', async () => {
    expect(await t.store.migrate()).toEqual([]);
    const rows = await t.store.all(t.store.qb.selectFrom('schema_migrations').select('name').orderBy('version'));
    expect(rows.map((r) => r.name)).toEqual(migrationFiles(path.join(appRoot, 'db', 'migrations')));
  });

  it('binds a prepared query’s named parameters in the order its SQL wants them', async () => {
    const at = Date.UTC(2026, 10, 30, 12, 0, 0, 123); // past 2^31: BIGINT on PostgreSQL
    const inserted = await t.store.first(insertOrganiser, { at, email: 'ann@example.org' });
    expect(inserted?.id).toEqual(expect.any(Number));
    const found = await t.store.first(organiserByEmail, { email: 'ann@example.org' });
    expect(found).toEqual({ id: inserted!.id, email: 'ann@example.org', created_at: at, locked_until: null });
    expect(await t.store.first(organiserByEmail, { email: 'nobody@example.org' })).toBeUndefined();
  });

  it('runs dynamic queries and raw SQL, and counts as numbers', async () => {
    for (const email of ['b1@example.org', 'b2@example.org', 'b3@example.org']) {
      await t.store.run(insertOrganiser, { email, at: 1 });
    }
    const like = await t.store.all(
      t.store.qb.selectFrom('organisers').select('email').where('email', 'like', 'b%').orderBy('email'),
    );
    expect(like.map((r) => r.email)).toEqual(['b1@example.org', 'b2@example.org', 'b3@example.org']);
    const count = await t.store.first(sql<{ n: number }>`SELECT COUNT(*) AS n FROM organisers WHERE created_at = ${1}`);
    expect(count).toEqual({ n: 3 });
    expect(
      await t.store.run(t.store.qb.updateTable('organisers').set({ role: 'admin' }).where('created_at', '=', 1)),
    ).toBe(3);
  });

  it('keeps bytes as bytes and ignores a conflicting insert when told to', async () => {
    const fingerprint = Buffer.from([0, 1, 2, 250, 255]);
    await t.store.run(
      t.store.qb
        .insertInto('outbox_pause')
        .values({ id: 1, reason: 'auth', paused_at: 5, relay: null })
        .onConflict((oc) => oc.column('id').doNothing()),
    );
    expect(
      await t.store.run(
        t.store.qb
          .insertInto('outbox_pause')
          .values({ id: 1, reason: 'again', paused_at: 6, relay: null })
          .onConflict((oc) => oc.column('id').doNothing()),
      ),
    ).toBe(0);
    await t.store.run(sql`CREATE TABLE bytes_test (b ${sql.raw(t.store.dialect === 'postgres' ? 'BYTEA' : 'BLOB')})`);
    await t.store.run(sql`INSERT INTO bytes_test (b) VALUES (${fingerprint})`);
    const row = await t.store.first(sql<{ b: Buffer }>`SELECT b FROM bytes_test`);
    expect(Buffer.compare(row!.b, fingerprint)).toBe(0);
  });

  describe('transactions', () => {
    const counter = prepared((qb) =>
      qb.selectFrom('organisers').select('failed_logins').where('email', '=', 'c@example.org'),
    );
    const bump = prepared((qb) =>
      qb
        .updateTable('organisers')
        .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1) }))
        .where('email', '=', 'c@example.org'),
    );
    beforeAll(async () => {
      await t.store.run(insertOrganiser, { email: 'c@example.org', at: 2 });
    });
    const value = async () => (await t.store.first(counter))!.failed_logins;

    it('commits when the work resolves and rolls back when it rejects', async () => {
      const before = await value();
      await t.store.transaction(async (tx) => {
        await tx.run(bump);
      });
      expect(await value()).toBe(before + 1);
      await expect(
        t.store.transaction(async (tx) => {
          await tx.run(bump);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await value()).toBe(before + 1);
    });

    it('rolls back a nested transaction alone', async () => {
      const before = await value();
      await t.store.transaction(async (tx) => {
        await tx.run(bump);
        await expect(
          tx.transaction(async (inner) => {
            await inner.run(bump);
            throw new Error('inner only');
          }),
        ).rejects.toThrow('inner only');
        await tx.run(bump);
      });
      expect(await value()).toBe(before + 2);
    });

    it('lets many transactions at once each read and write without losing an update', async () => {
      const before = await value();
      await Promise.all(
        Array.from({ length: 25 }, () =>
          t.store.transaction(async (tx) => {
            const row = await tx.first(
              postgresUrl
                ? sql<{
                    failed_logins: number;
                  }>`SELECT failed_logins FROM organisers WHERE email = 'c@example.org' FOR UPDATE`
                : counter,
            );
            await tx.run(
              t.store.qb
                .updateTable('organisers')
                .set({ failed_logins: row!.failed_logins + 1 })
                .where('email', '=', 'c@example.org'),
            );
          }),
        ),
      );
      expect(await value()).toBe(before + 25);
    });

    it('never lets a write from outside slip into a transaction that is open', async () => {
      const before = await value();
      let outside: Promise<number> | undefined;
      await expect(
        t.store.transaction(async (tx) => {
          await tx.run(bump);
          outside = t.store.run(bump); // another request's write, while this transaction is open
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('roll back mine');
        }),
      ).rejects.toThrow('roll back mine');
      expect(await outside).toBe(1);
      expect(await value()).toBe(before + 1);
    });
  });
});

describe('migrations', () => {
  it('has a PostgreSQL twin for every SQLite migration, with the same number and name', () => {
    const dir = path.join(appRoot, 'db', 'migrations');
    expect(migrationFiles(path.join(dir, 'postgres'))).toEqual(migrationFiles(dir));
    for (const file of migrationFiles(dir))
      expect(fs.statSync(path.join(dir, 'postgres', file)).size).toBeGreaterThan(0);
  });
});

describe(`the group writer on ${engine}`, () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await createTestStore();
  });
  afterAll(async () => t.close());

  const insert = prepared((qb, p: Params<{ email: string }>) =>
    qb.insertInto('organisers').values({ email: p.email, password_hash: 'x', role: 'viewer', created_at: 1 }),
  );
  const emails = async () =>
    (await t.store.all(t.store.qb.selectFrom('organisers').select('email').orderBy('email'))).map((r) => r.email);

  it('commits the writes of one moment, rolling back only the one that failed', async () => {
    const group = createGroupWriter(t.store);
    let commits = 0;
    group.onCommit(() => commits++);
    const write = (email: string) => group.run((tx) => tx.run(insert, { email }));
    const results = await Promise.allSettled([write('a@x.org'), write('a@x.org'), write('b@x.org')]);
    // One of the two writes of the same address fails (which one, on PostgreSQL, is the race's to say).
    expect(
      results
        .slice(0, 2)
        .map((r) => r.status)
        .sort(),
    ).toEqual(['fulfilled', 'rejected']);
    expect(results[2]!.status).toBe('fulfilled');
    expect(await emails()).toEqual(['a@x.org', 'b@x.org']);
    // SQLite shares one commit among them; PostgreSQL commits each (and groups them itself).
    expect(commits).toBe(postgresUrl ? 2 : 1);
  });

  it('answers a caller only once its write is committed, visible to every other reader', async () => {
    const group = createGroupWriter(t.store);
    await group.run(async (tx) => {
      await tx.run(insert, { email: 'c@x.org' });
    });
    expect(await emails()).toContain('c@x.org');
  });

  it('keeps a group to its size, and every write of a larger burst lands', async () => {
    const group = createGroupWriter(t.store, 4);
    let commits = 0;
    group.onCommit(() => commits++);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => group.run((tx) => tx.run(insert, { email: `g${i}@x.org` }))),
    );
    expect((await emails()).filter((e) => e.startsWith('g'))).toHaveLength(10);
    expect(commits).toBe(postgresUrl ? 10 : 3);
  });
});
