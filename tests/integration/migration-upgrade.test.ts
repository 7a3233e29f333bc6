import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appRoot } from '../../server/config';
import { migrate, openDatabase } from '../../server/db/database';

/**
 * Upgrading a database that already holds data: 0009 rebuilds `letters` (SQLite cannot widen a
 * CHECK in place) and must keep every letter, its text and its bands, and set the delegations'
 * postal address. SQLite only: PostgreSQL changes the constraint in place.
 */
describe('migration 0009 on a database with letters', () => {
  let dir: string;
  let migrations: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-upgrade-'));
    migrations = path.join(dir, 'migrations');
    fs.mkdirSync(migrations);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps letters, texts and bands, allows post, and seeds postal addresses', () => {
    const all = fs.readdirSync(path.join(appRoot, 'db', 'migrations')).filter((f) => /^\d{4}-.*\.sql$/.test(f));
    for (const f of all.filter((f) => f < '0009')) {
      fs.copyFileSync(path.join(appRoot, 'db', 'migrations', f), path.join(migrations, f));
    }
    const db = openDatabase(path.join(dir, 'old.db'));
    migrate(db, migrations);
    db.exec(`INSERT INTO countries (code, nato_member) VALUES ('DE', 1);
      INSERT INTO campaigns (id, slug, source_author, source_title, source_publication) VALUES (1, 'c', 'a', 't', 'p');
      INSERT INTO demands (id, campaign_id, slug, position) VALUES (1, 1, 'd', 1);
      INSERT INTO targets (id, country_code, name, is_default, created_at, updated_at)
        VALUES (7, 'DE', 'Ständige Vertretung Deutschlands bei der NATO', 1, 0, 0);
      INSERT INTO letters (id, demand_id, target_id, country_code, delivery, name, email, email_canonical, lang,
        locale, fingerprint, state, day, created_at, updated_at)
        VALUES (3, 1, 7, 'DE', 'self', 'Ann', 'ann@example.org', 'ann@example.org', 'en', 'en', x'00', 'pending',
        '2026-11-30', 1, 1);
      INSERT INTO letter_texts (letter_id, own_words, body) VALUES (3, 'mine', 'Dear…');
      INSERT INTO letter_bands (demand_id, band_key, letter_id, created_at) VALUES (1, 42, 3, 1);`);
    fs.copyFileSync(
      path.join(appRoot, 'db', 'migrations', '0009-hand-in-packs.sql'),
      path.join(migrations, '0009-hand-in-packs.sql'),
    );
    expect(migrate(db, migrations)).toEqual(['0009-hand-in-packs.sql']);

    expect(db.prepare('SELECT body FROM letter_texts WHERE letter_id = 3').get()).toEqual({ body: 'Dear…' });
    expect(db.prepare('SELECT count(*) AS n FROM letter_bands').get()).toEqual({ n: 1 });
    db.prepare("UPDATE letters SET delivery = 'post' WHERE id = 3").run();
    expect(() => db.prepare("UPDATE letters SET delivery = 'pigeon' WHERE id = 3").run()).toThrow(/CHECK/);
    expect(db.prepare('SELECT postal_address FROM targets WHERE id = 7').get()).toEqual({
      postal_address:
        'Ständige Vertretung Deutschlands bei der NATO, NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium',
    });
    // Foreign keys are back on, and still cascade from the rebuilt table.
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.prepare('DELETE FROM letters WHERE id = 3').run();
    expect(db.prepare('SELECT count(*) AS n FROM letter_texts').get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('migration 0010 on a database with letters', () => {
  let dir: string;
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('counts the letters already handed in with a pack, apart from those sent by email', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-upgrade-'));
    const migrations = path.join(dir, 'migrations');
    fs.mkdirSync(migrations);
    const all = fs.readdirSync(path.join(appRoot, 'db', 'migrations')).filter((f) => /^\d{4}-.*\.sql$/.test(f));
    for (const f of all.filter((f) => f < '0010')) {
      fs.copyFileSync(path.join(appRoot, 'db', 'migrations', f), path.join(migrations, f));
    }
    const db = openDatabase(path.join(dir, 'old.db'));
    migrate(db, migrations);
    db.exec(`INSERT INTO countries (code, nato_member) VALUES ('DE', 1), ('IT', 1);
      INSERT INTO campaigns (id, slug, source_author, source_title, source_publication) VALUES (1, 'c', 'a', 't', 'p');
      INSERT INTO demands (id, campaign_id, slug, position) VALUES (1, 1, 'd', 1);
      INSERT INTO targets (id, country_code, name, is_default, created_at, updated_at)
        VALUES (7, 'DE', 'DE delegation', 1, 0, 0), (8, 'IT', 'IT delegation', 1, 0, 0);
      INSERT INTO letter_country_counts (demand_id, country_code, sent, self_sent) VALUES (1, 'DE', 3, 1), (1, 'IT', 2, 0);`);
    const letter = db.prepare(`INSERT INTO letters (demand_id, target_id, country_code, delivery, name, email,
      email_canonical, lang, locale, fingerprint, state, day, created_at, updated_at)
      VALUES (1, ?, ?, ?, 'Ann', 'ann@example.org', 'ann@example.org', 'en', 'en', x'00', ?, ?, 1, 1)`);
    letter.run(7, 'DE', 'post', 'sent', '2026-11-01');
    letter.run(7, 'DE', 'post', 'sent', '2026-11-02');
    letter.run(7, 'DE', 'post', 'ready', '2026-11-03');
    letter.run(7, 'DE', 'email', 'sent', '2026-11-04');
    letter.run(8, 'IT', 'email', 'sent', '2026-11-05');
    fs.copyFileSync(
      path.join(appRoot, 'db', 'migrations', '0010-letter-counts-by-channel.sql'),
      path.join(migrations, '0010-letter-counts-by-channel.sql'),
    );
    expect(migrate(db, migrations)).toEqual(['0010-letter-counts-by-channel.sql']);
    expect(
      db.prepare('SELECT country_code, sent, posted, self_sent FROM letter_country_counts ORDER BY 1').all(),
    ).toEqual([
      { country_code: 'DE', sent: 3, posted: 2, self_sent: 1 },
      { country_code: 'IT', sent: 2, posted: 0, self_sent: 0 },
    ]);
    db.close();
  });
});
