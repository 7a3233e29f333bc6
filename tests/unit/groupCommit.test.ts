import { openDatabase } from '../../server/db/database';
import { GroupCommit } from '../../server/db/groupCommit';

describe('GroupCommit', () => {
  it('commits the writes of one moment together, rolling back only the one that failed', async () => {
    const db = openDatabase(':memory:');
    db.exec('CREATE TABLE t (v INTEGER UNIQUE)');
    const group = new GroupCommit(db);
    let commits = 0;
    group.onCommit(() => commits++);
    const insert = (v: number) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v);
    const results = await Promise.allSettled([group.run(insert(1)), group.run(insert(1)), group.run(insert(2))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual([1, 2]);
    expect(commits).toBe(1);
    db.close();
  });

  it('answers callers only after the commit', async () => {
    const db = openDatabase(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    const group = new GroupCommit(db);
    await group.run(() => db.prepare('INSERT INTO t VALUES (1)').run());
    expect(db.inTransaction).toBe(false);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);
    db.close();
  });
});
