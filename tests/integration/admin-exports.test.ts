import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { createAccount, login, seedSignatures, sessionCookie, type SeedSignature } from '../helpers/admin';
import { formulaCells, readAsSpreadsheet } from '../helpers/spreadsheet';
import { databaseEnv, postgresUrl } from '../helpers/testStore';
import { until } from '../helpers/until';
import { confirm, confirmPath, countOn, createTestApp, sign, type TestApp } from '../helpers/testApp';

const run = promisify(execFile);
const root = path.join(__dirname, '..', '..');
const slug = 'fund-defence-fairly';
const other = 'protect-civil-society';
const day = (iso: string) => Date.parse(iso);

type Row = Record<string, string>;

const people: SeedSignature[] = [
  {
    petition: slug,
    name: 'Zoë Łukasz 李雷',
    email: 'zoe@example.org',
    country: 'PL',
    createdAt: day('2026-01-10T12:00:00Z'),
    updates: true,
  },
  {
    petition: slug,
    name: 'Ada Lovelace',
    email: 'ada@example.org',
    country: 'GB',
    createdAt: day('2026-01-20T00:00:00Z'),
  },
  {
    petition: slug,
    name: 'Grace Hopper',
    email: 'grace@example.org',
    country: 'US',
    createdAt: day('2026-01-31T23:59:00Z'),
    updates: true,
  },
  {
    petition: slug,
    name: 'Late Signer',
    email: 'late@example.org',
    country: 'GB',
    createdAt: day('2026-02-01T00:00:00Z'),
  },
  {
    petition: slug,
    name: 'Pending Person',
    email: 'pending@example.org',
    country: 'GB',
    state: 'pending',
    createdAt: day('2026-01-15T00:00:00Z'),
  },
  {
    petition: slug,
    name: 'Bot Net',
    email: 'bot@example.org',
    country: 'GB',
    state: 'fraudulent',
    createdAt: day('2026-01-15T00:00:00Z'),
  },
  {
    petition: slug,
    name: 'Gone Away',
    email: 'gone@example.org',
    country: 'GB',
    state: 'invalidated',
    createdAt: day('2026-01-15T00:00:00Z'),
  },
  {
    petition: other,
    name: 'Other Petition',
    email: 'other@example.org',
    country: 'GB',
    createdAt: day('2026-01-15T00:00:00Z'),
  },
  // Cells a spreadsheet would run as formulas. Names like these are refused at signing now, but a
  // postcode is free text, and the export must be safe whatever the database holds.
  {
    petition: slug,
    name: '=HYPERLINK("http://evil.example","click")',
    email: 'eq@example.org',
    country: 'BE',
    postcode: '+1+2',
    createdAt: day('2026-01-16T00:00:00Z'),
  },
  {
    petition: slug,
    name: '@SUM(A1:A9)',
    email: 'at@example.org',
    country: 'BE',
    postcode: '-3-4',
    createdAt: day('2026-01-16T00:00:00Z'),
  },
  {
    petition: slug,
    name: '\tTabbed',
    email: 'tab@example.org',
    country: 'BE',
    postcode: '\rCR',
    createdAt: day('2026-01-16T00:00:00Z'),
  },
  {
    petition: slug,
    name: 'Quote "Marks", and comma',
    email: 'quote@example.org',
    country: 'BE',
    postcode: 'line\nbreak',
    createdAt: day('2026-01-16T00:00:00Z'),
  },
];

describe('signature exports', () => {
  let t: TestApp;
  let agent: ReturnType<TestApp['agent']>;

  beforeAll(async () => {
    t = await createTestApp({ smtp: false });
    await seedSignatures(t.services, people);
    await createAccount(t.services, 'organiser@example.org', 'organiser');
    agent = t.agent();
    expect((await login(agent, 'organiser@example.org')).status).toBe(303);
  });
  afterAll(() => t.close());

  async function exportCsv(
    query: string,
  ): Promise<{ rows: Row[]; res: { headers: Record<string, string>; text: string } }> {
    const res = await agent.get(`/admin/exports/signatures.csv?${query}`).buffer(true).expect(200);
    const rows = parse(res.text, { bom: true, columns: true, relax_column_count: false }) as Row[];
    return { rows, res: res as unknown as { headers: Record<string, string>; text: string } };
  }
  const emails = (rows: Row[]) => rows.map((r) => r.email).sort();

  describe('GET /admin/exports/signatures.csv', () => {
    it('is a dated attachment, never cached, with the documented columns', async () => {
      const { res, rows } = await exportCsv(`petition=${slug}`);
      const today = new Date().toISOString().slice(0, 10);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="signatures-${slug}-${today}.csv"`);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(
        res.text.startsWith(
          '\uFEFFpetition,name,email,country,postcode,state,signed_at,validated_at,updates_opt_in,source\r\n',
        ),
      ).toBe(true);
      const ada = rows.find((r) => r.email === 'ada@example.org')!;
      expect(ada).toEqual({
        petition: slug,
        name: 'Ada Lovelace',
        email: 'ada@example.org',
        country: 'GB',
        postcode: '',
        state: 'validated',
        signed_at: '2026-01-20T00:00:00Z',
        validated_at: '2026-01-20T00:00:00Z',
        updates_opt_in: 'no',
        source: '',
      });
    });

    it('keeps UTF-8 names intact', async () => {
      const { rows } = await exportCsv(`petition=${slug}&country=PL`);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.name).toBe('Zoë Łukasz 李雷');
    });

    it('neutralises cells starting with = + - @ tab or CR, and quotes the rest as RFC 4180 asks', async () => {
      const { rows, res } = await exportCsv(`petition=${slug}&country=BE`);
      const by = (email: string) => rows.find((r) => r.email === email)!;
      expect(by('eq@example.org').name).toBe(`'=HYPERLINK("http://evil.example","click")`);
      expect(by('eq@example.org').postcode).toBe("'+1+2");
      expect(by('at@example.org').name).toBe("'@SUM(A1:A9)");
      expect(by('at@example.org').postcode).toBe("'-3-4");
      expect(by('tab@example.org').name).toBe("'\tTabbed");
      expect(by('tab@example.org').postcode).toBe("'\rCR");
      expect(by('quote@example.org').name).toBe('Quote "Marks", and comma');
      expect(by('quote@example.org').postcode).toBe('line\nbreak');
      // No cell of the raw file starts with a formula character.
      const cells = (parse(res.text, { bom: true }) as string[][]).flat();
      expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
    });

    it('filters by petition', async () => {
      expect(emails((await exportCsv(`petition=${other}`)).rows)).toEqual(['other@example.org']);
    });

    it('filters by country', async () => {
      expect(emails((await exportCsv(`petition=${slug}&country=GB`)).rows)).toEqual([
        'ada@example.org',
        'late@example.org',
      ]);
    });

    it('exports validated signatures unless another state is asked for', async () => {
      const all = (await exportCsv(`petition=${slug}`)).rows;
      expect(new Set(all.map((r) => r.state))).toEqual(new Set(['validated']));
      expect(all).toHaveLength(8);
      for (const state of ['pending', 'fraudulent', 'invalidated']) {
        const rows = (await exportCsv(`petition=${slug}&state=${state}`)).rows;
        expect(rows.map((r) => r.state)).toEqual([state]);
        expect(rows[0]!.validated_at).toBe('');
      }
      expect((await exportCsv(`petition=${slug}&state=all`)).rows).toHaveLength(11);
    });

    it('filters by date signed, both ends included', async () => {
      const { rows } = await exportCsv(`petition=${slug}&from=2026-01-20&to=2026-01-31`);
      expect(emails(rows)).toEqual(['ada@example.org', 'grace@example.org']);
    });

    it('filters to people who asked for updates', async () => {
      const { rows } = await exportCsv(`petition=${slug}&optedIn=on`);
      expect(emails(rows)).toEqual(['grace@example.org', 'zoe@example.org']);
      expect(rows.every((r) => r.updates_opt_in === 'yes')).toBe(true);
    });

    it('exports every petition when none is chosen, named "all"', async () => {
      const { rows, res } = await exportCsv('');
      expect(rows).toHaveLength(9);
      expect(new Set(rows.map((r) => r.petition))).toEqual(new Set([slug, other]));
      expect(res.headers['content-disposition']).toMatch(/filename="signatures-all-\d{4}-\d{2}-\d{2}\.csv"/);
    });

    it('answers a filter it cannot use with the form and a message, not a file', async () => {
      const res = await agent.get('/admin/exports/signatures.csv?petition=nope&from=2026-02-30').expect(400);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.text).toContain('Choose a petition from the list');
      expect(res.text).toContain('Enter a date like 2026-03-31');
    });

    it('is recorded in the audit log with its filters', async () => {
      await exportCsv(`petition=${other}&country=GB&state=all`);
      const entry = (await t.services.store.first(
        t.services.store.qb
          .selectFrom('audit_log')
          .select(['subject', 'details'])
          .where('action', '=', 'signatures.export')
          .orderBy('id', 'desc')
          .limit(1),
      ))!;
      expect(entry.subject).toBe(other);
      expect(JSON.parse(entry.details)).toMatchObject({ petition: other, country: 'GB', state: 'all' });
    });
  });

  describe('npm run export', () => {
    const env = () => ({
      ...process.env,
      NODE_ENV: 'test',
      ...databaseEnv(t.services.config),
      DATA_DIR: t.dir,
      SECRET: 'a-test-secret-that-is-long-enough-000000',
    });
    const cli = (args: string[]) =>
      run(path.join(root, 'node_modules', '.bin', 'tsx'), ['server/console/exports/cli.ts', ...args], {
        cwd: root,
        env: env(),
      });

    it('writes the same CSV to a file, with progress on stderr', async () => {
      const out = path.join(t.dir, 'cli.csv');
      const { stderr } = await cli(['--petition', slug, '--country', 'gb', '--out', out]);
      const rows = parse(fs.readFileSync(out, 'utf8'), { bom: true, columns: true }) as Row[];
      expect(emails(rows)).toEqual(['ada@example.org', 'late@example.org']);
      expect(stderr).toMatch(/export: 2 of 2 rows \(100%\)/);
      expect(stderr).toContain(`2 rows written to ${out}`);
    });

    it('writes to standard output, formula-safe and UTF-8 intact', async () => {
      const { stdout } = await cli(['--petition', slug]);
      const rows = parse(stdout, { bom: true, columns: true }) as Row[];
      expect(rows).toHaveLength(8);
      expect(rows.find((r) => r.email === 'zoe@example.org')!.name).toBe('Zoë Łukasz 李雷');
      expect(rows.find((r) => r.email === 'eq@example.org')!.name).toMatch(/^'=/);
    });

    it('says what is wrong with an unknown petition', async () => {
      await expect(cli(['--petition', 'nope'])).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('There is no petition "nope"') as unknown,
      });
    });
  });
});

describe('an export opened in a spreadsheet that splits on ";" (French, German or Italian Excel)', () => {
  let t: TestApp;
  afterAll(() => t.close());

  it('shows every piece of a cell that holds a separator as text, never as a formula', async () => {
    t = await createTestApp();
    const signer = t.agent();
    const typed = [
      { name: 'Jean;=1+1;', postcode: '75001;+SUM(A1)' },
      { name: 'Anna|+39 06', postcode: '00184, -1' },
    ];
    for (const [i, fields] of typed.entries()) {
      const res = await sign(signer, slug, { ...fields, email: `typed${i}@example.org`, country: 'FR' });
      expect(res.status).toBe(303);
    }
    for (const mail of await t.smtp!.waitFor(typed.length)) {
      expect((await confirm(signer, confirmPath(mail.text))).status).toBe(303);
    }
    await createAccount(t.services, 'organiser@example.org', 'organiser');
    const agent = t.agent();
    expect((await login(agent, 'organiser@example.org')).status).toBe(303);

    const res = await agent.get(`/admin/exports/signatures.csv?petition=${slug}`).buffer(true).expect(200);
    for (const separator of [';', '\t', '|']) {
      expect([separator, formulaCells(readAsSpreadsheet(res.text, separator))]).toEqual([separator, []]);
    }
    // Split on ";", the piece after the separator is a cell of its own: it starts with an apostrophe.
    const cells = readAsSpreadsheet(res.text, ';').flat();
    expect(cells).toContain("'=1+1");
    expect(cells.filter((c) => c.startsWith("'+SUM(A1)"))).toHaveLength(1);
    // Read with commas, each cell is what was typed, with an apostrophe before each such piece.
    const rows = parse(res.text, { bom: true, columns: true }) as Row[];
    expect(rows.map((r) => [r.name, r.postcode]).sort()).toEqual([
      ["Anna|'+39 06", "00184,' -1"],
      ["Jean;'=1+1;", "75001;'+SUM(A1)"],
    ]);
  });
});

describe('a long export', () => {
  let t: TestApp;
  /** The server's side of the latest request, to see when it waits for a slow browser. */
  const serverSide = (server: http.Server) => {
    let latest: http.ServerResponse | undefined;
    server.on('request', (_req, res: http.ServerResponse) => (latest = res));
    return () => latest;
  };
  beforeAll(async () => {
    t = await createTestApp();
    const many: SeedSignature[] = [];
    for (let i = 0; i < 100_000; i++) {
      many.push({
        petition: slug,
        name: `Signer ${i}`,
        email: `s${i}@example.org`,
        country: 'DE',
        postcode: 'D-10115',
      });
    }
    await seedSignatures(t.services, many);
    await createAccount(t.services, 'ada@example.org', 'organiser');
    // 100,000 rows: on PostgreSQL, on a busy machine, this takes longer than a test's usual time.
  }, 120_000);
  afterAll(() => t.close());

  it('streams with backpressure and leaves the app free to take signatures meanwhile', async () => {
    const agent = t.agent();
    const cookie = sessionCookie(await login(agent, 'ada@example.org'))!.split(';')[0]!;
    const server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const exporting = serverSide(server);
    let response: http.IncomingMessage | undefined;
    try {
      let bytes = 0;
      let ended = false;
      const chunks: Buffer[] = [];
      response = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http
          .get(
            {
              host: '127.0.0.1',
              port,
              path: `/admin/exports/signatures.csv?petition=${slug}`,
              headers: { Cookie: cookie },
            },
            resolve,
          )
          .on('error', reject);
      });
      // A slow browser: it reads one chunk, then stops reading for a while.
      response.once('data', () => response!.pause());
      response.on('data', (c: Buffer) => {
        bytes += c.length;
        chunks.push(c);
      });
      const finished = new Promise<void>((resolve) => response!.on('end', resolve)).then(() => (ended = true));
      // The server has written what the connection holds and waits for the browser to read on.
      await until(() => exporting()?.writableNeedDrain === true, 'the export to wait for the browser');
      expect(ended).toBe(false);
      expect(bytes).toBeLessThan(1_000_000);

      // The export's read is still open; a signature goes through all the same, mail and count.
      await sign(agent, slug, { name: 'During Export', email: 'during@example.org', country: 'FR' });
      const [mail] = await t.smtp!.waitFor(1);
      expect((await confirm(agent, confirmPath(mail!.text))).status).toBe(303);
      expect(await countOn(agent, slug)).toBe(100_001);
      expect(ended).toBe(false);

      response.resume();
      await finished;
      const rows = parse(Buffer.concat(chunks).toString('utf8'), { bom: true, columns: true }) as Row[];
      // The file holds the signatures that existed when the export began.
      expect(rows).toHaveLength(100_000);
      expect(rows.at(-1)!.email).toBe('s99999@example.org');
    } finally {
      response?.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('holds no snapshot while the browser is slow, and stops reading when it goes away', async () => {
    const agent = t.agent();
    const cookie = sessionCookie(await login(agent, 'ada@example.org'))!.split(';')[0]!;
    const server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const exporting = serverSide(server);
    // Frames of the WAL that a checkpoint could not copy back: some reader's snapshot still needs them.
    // SQLite only: PostgreSQL has no WAL a reader holds back from the file.
    const stuck = () => {
      const [r] = t.services.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
      return r!.log - r!.checkpointed;
    };
    // The export's pages: reads of signatures in id order, a page at a time.
    let pages = 0;
    const all = t.services.store.all.bind(t.services.store);
    const spy = jest.spyOn(t.services.store, 'all').mockImplementation(((query: unknown, args?: unknown) => {
      try {
        const text = (query as { compile(): { sql: string } }).compile().sql;
        if (/from "signatures" where .* order by "id" limit/.test(text)) pages++;
      } catch {
        // a prepared query or a raw one: not a page
      }
      return all(query as never, args as never);
    }) as typeof t.services.store.all);
    try {
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http
          .get(
            {
              host: '127.0.0.1',
              port,
              path: `/admin/exports/signatures.csv?petition=${slug}`,
              headers: { Cookie: cookie },
            },
            resolve,
          )
          .on('error', reject);
      });
      await new Promise((resolve) => response.once('data', resolve));
      response.pause();
      await until(() => exporting()?.writableNeedDrain === true, 'the export to wait for the browser');
      // Each page is a query of its own: while the export waits, no read holds the WAL.
      await t.services.store.run(
        t.services.store.qb
          .updateTable('petitions')
          .set({ goal: sql<number>`goal + 1` })
          .where('slug', '=', 'protect-civil-society'),
      );
      if (!postgresUrl) expect(stuck()).toBe(0);
      const read = pages;
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThan(20); // 100,000 rows: twenty pages in all

      response.destroy(); // the browser closes the tab
      await until(() => exporting()?.destroyed === true, 'the server to see the browser go');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(pages).toBe(read);
    } finally {
      spy.mockRestore();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
