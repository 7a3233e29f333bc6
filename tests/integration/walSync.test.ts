import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../server/db/database';
import { createGroupWriter } from '../../server/db/groupWriter';
import { createSqliteStore } from '../../server/db/sqliteStore';
import type { Store } from '../../server/db/store';
import { createTestApp } from '../helpers/testApp';

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

  it('answers no commit as written once an fsync has failed, even when a later fsync would succeed', async () => {
    const first = store.transaction((t) => insertCountry(t, 'PT'));
    await settle();
    held.shift()!.done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await expect(first).rejects.toThrow(/could not be written to disk: EIO/);
    // Committed, but never answered as written: and nothing after it is, however fsync answers.
    await expect(store.transaction((t) => insertCountry(t, 'RO'))).rejects.toThrow(/could not be written to disk/);
    await expect(insertCountry(store, 'SK')).rejects.toThrow(/could not be written to disk/);
    expect(held).toHaveLength(0);
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
