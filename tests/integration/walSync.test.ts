import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../server/db/database';
import { createGroupWriter } from '../../server/db/groupWriter';
import { createSqliteStore } from '../../server/db/sqliteStore';
import type { Store } from '../../server/db/store';
import request from 'supertest';
import { freePort, spawnServer } from '../helpers/server';
import { aSigner, confirmPath, createTestApp, sameOrigin, sign, type TestApp } from '../helpers/testApp';
import { aLetter, writeLetter } from '../helpers/letters';
import { until } from '../helpers/until';

const slug = 'fund-defence-fairly';

type FsyncCallback = (error: NodeJS.ErrnoException | null) => void;

/** Lets the event loop run, so that anything not held back settles. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SQLite at synchronous=FULL: a commit is answered once its WAL is fsynced, off the event loop', () => {
  let dir: string;
  let db: Database;
  let store: Store;
  /** fsyncs asked for and not finished yet: each finishes when the test says so. */
  let held: Array<{ fd: number; done: FsyncCallback }>;
  let fsync: jest.SpyInstance;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-walsync-'));
    db = openDatabase(path.join(dir, 'app.db'), 'FULL');
    store = createSqliteStore(db);
    await store.migrate();
    held = [];
    fsync = jest.spyOn(fs, 'fsync').mockImplementation(((fd: number, done: FsyncCallback) => {
      held.push({ fd, done });
    }) as unknown as typeof fs.fsync);
  });
  afterEach(async () => {
    fsync.mockRestore();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const insertCountry = (tx: Pick<Store, 'run'>, code: string) =>
    tx.run(sql`INSERT INTO countries (code) VALUES (${code})`);
  const countries = async () =>
    (await store.all(sql<{ code: string }>`SELECT code FROM countries ORDER BY code`)).map((r) => r.code);
  const finishFsync = () => held.shift()!.done(null);

  it('runs SQLite at NORMAL and fsyncs the WAL file itself', () => {
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('answers a transaction only after the fsync that follows its commit', async () => {
    let answered = false;
    const tx = store.transaction((t) => insertCountry(t, 'FR')).then(() => (answered = true));
    await settle();
    expect(held).toHaveLength(1);
    expect(fs.fstatSync(held[0]!.fd).ino).toBe(fs.statSync(path.join(dir, 'app.db-wal')).ino);
    expect(answered).toBe(false);
    // Committed (another read sees it), not yet answered.
    expect(await countries()).toEqual(['FR']);
    finishFsync();
    await tx;
    expect(answered).toBe(true);
  });

  it('answers a write outside a transaction only after its fsync too', async () => {
    let answered = false;
    const write = insertCountry(store, 'DE').then(() => (answered = true));
    await settle();
    expect(answered).toBe(false);
    expect(held).toHaveLength(1);
    finishFsync();
    await write;
    expect(answered).toBe(true);
  });

  it('has commits made during an fsync wait for the next one, which they share', async () => {
    const answered: string[] = [];
    const first = store.transaction((t) => insertCountry(t, 'AA')).then(() => answered.push('AA'));
    await settle();
    expect(held).toHaveLength(1);
    // Three commits while the first fsync runs: it may have started before they were written.
    const more = ['BB', 'CC', 'DD'].map((code) =>
      store.transaction((t) => insertCountry(t, code)).then(() => answered.push(code)),
    );
    await settle();
    expect(await countries()).toEqual(['AA', 'BB', 'CC', 'DD']);
    expect(held).toHaveLength(1);
    finishFsync();
    await first;
    await settle();
    expect(answered).toEqual(['AA']);
    expect(held).toHaveLength(1); // one more fsync, for the three
    finishFsync();
    await Promise.all(more);
    expect(answered.sort()).toEqual(['AA', 'BB', 'CC', 'DD']);
    expect(fsync).toHaveBeenCalledTimes(2);
  });

  it('lets the group writer answer a whole group after one fsync, and passes an fsync error on', async () => {
    const writer = createGroupWriter(store);
    const group = ['GB', 'IT', 'ES'].map((code) => writer.run((tx) => insertCountry(tx, code)));
    await settle();
    await settle();
    expect(held).toHaveLength(1);
    held.shift()!.done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await expect(Promise.all(group)).rejects.toThrow('EIO');
    await writer.close();
  });

  it('answers a transaction that wrote nothing without an fsync', async () => {
    expect(await store.transaction((t) => t.all(sql<{ code: string }>`SELECT code FROM countries`))).toEqual([]);
    expect(held).toHaveLength(0);
  });

  it('answers a write that changed no row without an fsync, and one that returned its rows after one', async () => {
    // Outside a transaction and inside one: an outbox poll that finds nothing due is such a write.
    expect(await store.run(sql`UPDATE countries SET code = 'XX' WHERE code = 'none'`)).toBe(0);
    expect(await store.transaction((t) => t.run(sql`DELETE FROM countries WHERE code = 'none'`))).toBe(0);
    expect(await store.all(sql`UPDATE countries SET code = 'XX' WHERE code = 'none' RETURNING code`)).toEqual([]);
    expect(held).toHaveLength(0);
    let answered = false;
    const write = store
      .first(sql<{ code: string }>`INSERT INTO countries (code) VALUES ('LU') RETURNING code`)
      .then((row) => {
        answered = true;
        return row;
      });
    await settle();
    expect(held).toHaveLength(1);
    expect(answered).toBe(false);
    finishFsync();
    expect(await write).toEqual({ code: 'LU' });
  });

  it("answers a write that found another caller's commit only once that commit is on disk", async () => {
    // A double-submitted form: the second INSERT finds the first one's row, and must not be told it
    // exists before the first is on disk (nor ever, if that fsync fails).
    const insertOnce = (t: Pick<Store, 'run'>) =>
      t.run(sql`INSERT INTO countries (code) VALUES ('IS') ON CONFLICT DO NOTHING`);
    const first = store.transaction(insertOnce);
    await settle();
    expect(held).toHaveLength(1);
    let secondAnswered = false;
    const second = store.transaction(insertOnce).then((changed) => {
      secondAnswered = true;
      return changed;
    });
    const outside = insertOnce(store);
    await settle();
    expect(held).toHaveLength(1); // no fsync of their own
    expect(secondAnswered).toBe(false);
    held.shift()!.done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await expect(first).rejects.toThrow(/EIO/);
    await expect(second).rejects.toThrow(/EIO/);
    await expect(outside).rejects.toThrow(/EIO/);
    expect(held).toHaveLength(0);
  });

  it("fsyncs once for a write that found another process's commit, which may not be on disk yet", async () => {
    // Two connections to one file, as web workers or `npm run worker` are: B's fsync of the WAL is
    // what makes A's commit durable as far as B's answer goes.
    const otherDb = openDatabase(path.join(dir, 'app.db'), 'FULL');
    const other = createSqliteStore(otherDb);
    try {
      const insertOnce = (t: Pick<Store, 'run'>) =>
        t.run(sql`INSERT INTO countries (code) VALUES ('LV') ON CONFLICT DO NOTHING`);
      const first = insertOnce(store);
      await settle();
      expect(held).toHaveLength(1); // A's, held as a slow disk would
      let answered = false;
      const second = insertOnce(other).then((changed) => {
        answered = true;
        return changed;
      });
      await settle();
      expect(held).toHaveLength(2); // B asks for one of its own
      expect(answered).toBe(false);
      held.pop()!.done(null);
      expect(await second).toBe(0);
      finishFsync();
      await first;
      // Nothing committed elsewhere since: the next write that finds nothing asks for no fsync.
      expect(await insertOnce(other)).toBe(0);
      expect(held).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('counts every statement as a write while the schema has triggers, which write rows no count shows', async () => {
    // Set up on the connection itself, then the store looks at the schema again (as after a migration).
    db.exec(`CREATE TABLE seen (code TEXT);
      CREATE TRIGGER note_country BEFORE INSERT ON countries BEGIN INSERT INTO seen VALUES (NEW.code); END;
      INSERT INTO countries (code) VALUES ('MT');`);
    await store.migrate();
    // The row exists: the INSERT changes nothing, but its trigger wrote to `seen` first.
    const ignored = store.run(sql`INSERT OR IGNORE INTO countries (code) VALUES ('MT')`);
    await settle();
    expect(held).toHaveLength(1);
    finishFsync();
    expect(await ignored).toBe(0);
    expect(await store.all(sql`SELECT code FROM seen`)).toEqual([{ code: 'MT' }, { code: 'MT' }]);
  });

  it('counts a schema change as a write, though it changes no row, and sees the triggers it adds', async () => {
    const ddl = store.run(sql`CREATE TABLE later (code TEXT)`);
    await settle();
    expect(held).toHaveLength(1);
    finishFsync();
    expect(await ddl).toBe(0);
    db.exec(`INSERT INTO countries (code) VALUES ('EE')`);
    const trigger = store.run(
      sql`CREATE TRIGGER note_later BEFORE INSERT ON countries BEGIN INSERT INTO later VALUES (NEW.code); END`,
    );
    await settle();
    finishFsync();
    await trigger;
    // No migration since: the store counted the trigger when it was created. The row exists, so
    // the INSERT changes nothing, but its trigger writes a row to `later`.
    const ignored = store.run(sql`INSERT OR IGNORE INTO countries (code) VALUES ('EE')`);
    await settle();
    expect(held).toHaveLength(1);
    finishFsync();
    expect(await ignored).toBe(0);
    expect(await store.all(sql`SELECT code FROM later`)).toEqual([{ code: 'EE' }]);
  });

  it('answers no commit as written once an fsync has failed, even when a later fsync would succeed', async () => {
    const told: Error[] = [];
    store.onWriteFailure!((error) => told.push(error));
    const first = store.transaction((t) => insertCountry(t, 'PT'));
    await settle();
    held.shift()!.done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await expect(first).rejects.toThrow(/could not be written to disk: EIO/);
    expect(told.map((e) => e.message)).toEqual([expect.stringMatching(/could not be written to disk: EIO/)]);
    // Committed, but never answered as written: and nothing after it is, however fsync answers.
    await expect(store.transaction((t) => insertCountry(t, 'RO'))).rejects.toThrow(/could not be written to disk/);
    await expect(insertCountry(store, 'SK')).rejects.toThrow(/could not be written to disk/);
    expect(held).toHaveLength(0);
    expect(told).toHaveLength(1); // told once, not at every refused write
    const late: Error[] = [];
    store.onWriteFailure!((error) => late.push(error));
    expect(late).toEqual([told[0]]); // a listener added after the failure is told at once
  });

  it('changes nothing at NORMAL: no fsync of its own', async () => {
    const normalDb = openDatabase(path.join(dir, 'normal.db'), 'NORMAL');
    const normal = createSqliteStore(normalDb);
    try {
      await normal.migrate();
      await normal.transaction((t) => insertCountry(t, 'NO'));
      expect(fsync).not.toHaveBeenCalled();
    } finally {
      await normal.close();
    }
  });
});

describe('a confirmation answered as done on the strength of a read waits for its fsync', () => {
  let t: TestApp;
  let link: string;
  let held: Array<FsyncCallback>;
  let fsync: jest.SpyInstance | undefined;
  beforeEach(async () => {
    t = await createTestApp();
    await sign(t.agent(), slug);
    link = confirmPath((await t.smtp!.waitFor(1))[0]!.text);
    await t.services.sender.idle();
    held = [];
  });
  afterEach(async () => {
    fsync?.mockRestore();
    for (const done of held.splice(0)) done(null);
    await t.close();
  });
  const holdFsyncs = () => {
    fsync = jest.spyOn(fs, 'fsync').mockImplementation(((_fd: number, done: FsyncCallback) => {
      held.push(done);
    }) as unknown as typeof fs.fsync);
  };
  const press = () => t.agent().post(link).set(sameOrigin).type('form').send({});
  // Committed (a read sees it), its fsync held: the second click then reads it, and takes no write path.
  const validated = async () =>
    (await t.services.store.first(sql<{ state: string }>`SELECT state FROM signatures`))?.state === 'validated';

  it('tells a double click "confirmed" only once the first click\'s commit is on disk', async () => {
    holdFsyncs();
    const first = press().then((res) => res);
    await until(validated, 'the first click to commit');
    let secondAnswered = false;
    const second = press().then((res) => {
      secondAnswered = true;
      return res;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(secondAnswered).toBe(false); // it read the validated row, and waits for its fsync
    fsync!.mockRestore();
    for (const done of held.splice(0)) done(null);
    expect((await first).status).toBe(303);
    expect((await second).status).toBe(303);
    expect((await second).headers.location).toMatch(new RegExp(`^/petitions/${slug}/thanks`));
  });

  it('and never, when that fsync fails', async () => {
    holdFsyncs();
    const first = press().then((res) => res);
    await until(validated, 'the first click to commit');
    const second = press().then((res) => res);
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const done of held.splice(0)) done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    expect((await first).status).toBe(500);
    const answer = await second;
    expect(answer.status).toBe(500);
    expect(answer.headers.location).toBeUndefined();
  });
});

describe('a letter\'s confirmation link says "confirmed" only once that is on disk', () => {
  it('waits for the fsync of the click that confirmed it', async () => {
    const t = await createTestApp();
    let fsync: jest.SpyInstance | undefined;
    const held: FsyncCallback[] = [];
    try {
      await writeLetter(t, aLetter, { confirm: false });
      const mail = (await t.smtp!.waitFor(1)).find((m) => m.subject?.startsWith('Confirm'))!;
      const link = /http:\/\/localhost:3000(\/letters\/\d+\.[\w-]{27}\/confirm)/.exec(mail.text ?? '')![1]!;
      await t.services.sender.idle();
      fsync = jest.spyOn(fs, 'fsync').mockImplementation(((_fd: number, done: FsyncCallback) => {
        held.push(done);
      }) as unknown as typeof fs.fsync);
      const pressed = t
        .agent()
        .post(link)
        .set(sameOrigin)
        .type('form')
        .send({})
        .then((res) => res);
      await until(
        async () =>
          (await t.services.store.first(sql<{ state: string }>`SELECT state FROM letters`))?.state !== 'pending',
        'the letter to be confirmed',
      );
      let shown = false;
      const opened = t
        .agent()
        .get(link)
        .then((res) => {
          shown = true;
          return res;
        });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(shown).toBe(false);
      fsync.mockRestore();
      for (const done of held.splice(0)) done(null);
      expect((await pressed).status).toBe(303);
      expect((await opened).status).toBe(303); // to the letter's own page
    } finally {
      fsync?.mockRestore();
      for (const done of held.splice(0)) done(null);
      await t.close();
    }
  });
});

describe('confirming with a link while the signature is replaced by a newer attempt', () => {
  it('confirms nothing: the newer details were never shown to whoever pressed the button', async () => {
    const t = await createTestApp();
    try {
      await sign(t.agent(), slug, { ...aSigner, email: 'owner@example.org' });
      const link = confirmPath((await t.smtp!.waitFor(1))[0]!.text);
      const store = t.services.store;
      const first = store.first.bind(store) as (...args: unknown[]) => Promise<unknown>;
      // Right after the link's check read the signature, a stranger signs again with the owner's
      // address (another process, or PostgreSQL's round trips, leave room for it).
      let injected = false;
      store.first = (async (...args: unknown[]) => {
        const row = await first(...args);
        if (!injected && (row as { email?: string } | undefined)?.email === 'owner@example.org') {
          injected = true;
          await store.run(
            sql`UPDATE signatures SET name = 'Stranger Typed', created_at = created_at + 1 WHERE email = 'owner@example.org'`,
          );
        }
        return row;
      }) as Store['first'];
      const res = await t.agent().post(link).set(sameOrigin).type('form').send({});
      expect(injected).toBe(true);
      expect(res.status).toBe(404); // the link is no longer the signature's current one
      const row = await store.first(
        sql<{ name: string; state: string }>`SELECT name, state FROM signatures WHERE email = 'owner@example.org'`,
      );
      expect(row).toEqual({ name: 'Stranger Typed', state: 'pending' });
    } finally {
      await t.close();
    }
  });
});

describe('after a failed fsync, the server says it is not ready', () => {
  it('answers /readyz 503 with why, while reads still work', async () => {
    const t = await createTestApp({ smtp: false });
    const fsync = jest
      .spyOn(fs, 'fsync')
      .mockImplementation(((_fd: number, done: FsyncCallback) =>
        done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }))) as unknown as typeof fs.fsync);
    try {
      await t.agent().get('/readyz').expect(200);
      await expect(t.services.store.run(sql`INSERT INTO countries (code) VALUES ('XX')`)).rejects.toThrow(/EIO/);
      const ready = await t.agent().get('/readyz').expect(503);
      expect(ready.body.checks.database).toMatch(/^writes failing until restarted: .*EIO/);
      await t.agent().get('/petitions/fund-defence-fairly').expect(200);
    } finally {
      fsync.mockRestore();
      await t.close();
    }
  });
});

describe('after a failed fsync, the server stops so that its supervisor restarts it', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-walsync-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits 1 once the requests in flight are answered, and starts again on what is on disk', async () => {
    const flag = path.join(dir, 'fail-fsync');
    const env = {
      NODE_ENV: 'test',
      DATABASE_PATH: path.join(dir, 'app.db'),
      DATA_DIR: dir,
      SECRET: 'a-walsync-test-secret-that-is-long-enough',
      SQLITE_SYNCHRONOUS: 'FULL',
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: `--require ${path.join(__dirname, '..', 'helpers', 'failingFsync.js')}`,
      FAIL_FSYNC_FLAG: flag,
    };
    const port = await freePort();
    const server = spawnServer(port, env);
    try {
      await server.ready;
      const before = await sign(request.agent(server.url), slug, { ...aSigner, email: 'before@example.org' });
      expect(before.status).toBe(303);
      // Its confirmation mail captured and recorded as sent: the failing write below is the signature.
      const sent = () => {
        const db = openDatabase(path.join(dir, 'app.db'), 'NORMAL');
        try {
          return (db.prepare(`SELECT count(*) AS n FROM outbox WHERE state = 'sent'`).get() as { n: number }).n === 1;
        } finally {
          db.close();
        }
      };
      await until(sent, 'the confirmation mail to be recorded as sent', { everyMs: 50 });

      fs.writeFileSync(flag, '');
      const failed = await sign(request.agent(server.url), slug, { ...aSigner, email: 'during@example.org' });
      expect(failed.status).toBe(500);
      expect(failed.text).not.toMatch(/at \w+ \(/); // no stack trace
      expect(failed.headers.location).toBeUndefined(); // never told "check your email"
      expect(await server.exited).toEqual({ code: 1, signal: null });
      expect(server.output()).toContain('writes are no longer durable: stopping, to be restarted');
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }

    // Restarted on a sound disk, it answers, and is ready.
    fs.rmSync(flag);
    const again = spawnServer(port, env);
    try {
      await again.ready;
      expect((await fetch(`${again.url}/readyz`)).status).toBe(200);
      const next = await sign(request.agent(again.url), slug, { ...aSigner, email: 'after@example.org' });
      expect(next.status).toBe(303);
      again.child.kill('SIGTERM');
      expect(await again.exited).toEqual({ code: 0, signal: null });
    } finally {
      if (again.child.exitCode === null) again.child.kill('SIGKILL');
    }
    const db = openDatabase(path.join(dir, 'app.db'), 'FULL');
    try {
      const emails = (db.prepare('SELECT email FROM signatures').all() as Array<{ email: string }>).map((r) => r.email);
      expect(emails).toEqual(expect.arrayContaining(['before@example.org', 'after@example.org']));
    } finally {
      db.close();
    }
  }, 90_000);
});
