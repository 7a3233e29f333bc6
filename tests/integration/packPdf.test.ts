/**
 * The hand-in pack's PDF, read back as a delegation would: rendered to a file, then turned into text
 * by poppler's pdftotext (Debian's poppler-utils), one page at a time.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { PackDocument, PackLetter, PackSigner } from '../../server/packs/packDocument';
import { renderPackPdf } from '../../server/packs/packPdf';

const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const verifyUrl = 'https://example.org/verify/e3b0c44298fc';
const day = (m: number, d: number) => Date.UTC(2026, m - 1, d, 10);

const scriptNames: PackSigner[] = [
  { name: 'Zoë Łukasz-Dvořák', town: 'Kraków', countryName: 'Poland', signedAt: day(11, 30) },
  { name: 'Ana-María Núñez Pérez', town: null, countryName: 'Spain', signedAt: day(11, 2) },
  { name: 'Γιώργος Παπαδόπουλος', town: 'Θεσσαλονίκη', countryName: 'Greece', signedAt: day(10, 15) },
  { name: 'Анна Сергеевна Иванова', town: 'Пловдив', countryName: 'Bulgaria', signedAt: day(9, 1) },
  { name: 'İsmail Işık Şahinoğlu', town: 'Eskişehir', countryName: 'Türkiye', signedAt: day(8, 19) },
  { name: 'Ğülşen Çağlayan', town: 'Iğdır', countryName: 'Türkiye', signedAt: day(7, 4) },
];

function pack(over: Partial<PackDocument> & { rows?: PackSigner[]; letterList?: PackLetter[] } = {}): PackDocument {
  const rows = over.rows ?? scriptNames;
  const letterList = over.letterList ?? [];
  return {
    batchId: 7,
    lang: 'en',
    target: {
      name: 'Permanent Delegation of Germany to NATO',
      countryName: 'Germany',
      postalAddress:
        'Permanent Delegation of Germany to NATO, NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium',
    },
    petition: {
      slug: 'fund-defence-fairly',
      title: 'Fund defence through fair taxes, not austerity',
      body: 'We ask governments to raise the extra revenue through progressive taxation.\n\nNobody should give up their rights in the name of security.',
      demandTitle: 'Fair taxes',
    },
    campaign: {
      sourceAuthor: 'Agnès Callamard',
      sourceTitle: 'New NATO defence commitments must not come at cost of human rights',
      sourcePublication: 'Le Monde diplomatique',
    },
    createdAt: day(11, 30),
    totals: {
      thisPack: rows.length,
      runningTotal: rows.length + 1234,
      fromCountry: 1,
      fromOthers: rows.length - 1,
      letters: letterList.length,
    },
    integrity: { confirmedByEmail: true, invalidated: 3, firstSigned: day(7, 4), lastSigned: day(11, 30) },
    csvSha256: sha,
    verifyUrl,
    async *signers() {
      for (const row of rows) yield row;
    },
    async *letters() {
      for (const letter of letterList) yield letter;
    },
    ...over,
  };
}

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-packpdf-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Renders to a file and reads each page's text (pdftotext ends every page with a form feed). */
async function render(doc: PackDocument, layout = true) {
  const file = path.join(dir, `pack-${Math.random().toString(36).slice(2)}.pdf`);
  const { pages } = await renderPackPdf(doc, fs.createWriteStream(file));
  const text = execFileSync('pdftotext', [...(layout ? ['-layout'] : []), '-enc', 'UTF-8', file, '-'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const texts = text.split('\f').slice(0, -1);
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  const all = texts.join('\n');
  // Wrapped lines joined again, for sentences that may break anywhere.
  const flat = all.replace(/\s+/g, ' ');
  return { file, pages, texts, all, flat, pdfPages: Number(/^Pages:\s+(\d+)/m.exec(info)![1]) };
}

/** An output that takes every byte at once and keeps only their count. */
function counter() {
  const sink = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        sink.received += chunk.length;
        done();
      },
    }),
    { received: 0 },
  );
  return sink;
}

function expectPageNumbers(texts: string[], pages: number, word = 'of') {
  expect(texts).toHaveLength(pages);
  texts.forEach((text, i) => expect(text).toContain(`Page ${i + 1} ${word} ${pages}`));
}

describe('renderPackPdf', () => {
  it('prints every name in Latin, Greek, Cyrillic and Turkish letters, with the DejaVu font embedded', async () => {
    const { file, all } = await render(pack());
    for (const s of scriptNames) {
      expect(all).toContain(s.name);
      if (s.town) expect(all).toContain(s.town);
    }
    const fonts = execFileSync('pdffonts', [file], { encoding: 'utf8' });
    expect(fonts).toMatch(/DejaVuSans\s.*\byes\s+yes\s+yes/);
    expect(fonts).toMatch(/DejaVuSans-Bold\s.*\byes\s+yes\s+yes/);
  });

  it('gives the address block, totals, integrity figures, British dates, the SHA-256 and the address to check it', async () => {
    const { texts, all, flat } = await render(pack());
    const cover = texts[0]!;
    const flatCover = cover.replace(/\s+/g, ' ');
    expect(cover).toMatch(
      /Permanent Delegation of Germany to NATO\s+NATO Headquarters\s+Boulevard Léopold III\s+1110 Brussels\s+Belgium/,
    );
    expect(cover.match(/Permanent Delegation of Germany to NATO/g)).toHaveLength(1);
    // The delegation's head, greeted as a diplomat expects.
    expect(cover).toMatch(/^Dear Ambassador,$/m);
    expect(flatCover).toContain(
      'an article by Agnès Callamard, “New NATO defence commitments must not come at cost of human rights” (Le Monde diplomatique)',
    );
    expect(cover).toContain(sha);
    expect(cover).toContain(verifyUrl);
    expect(flatCover).toContain('from 4 July 2026 to 30 November 2026');
    expect(flat).toContain('Signatures in this pack: 6');
    expect(flat).toContain('Of these, 1 from Germany and 5 from other Allies');
    expect(flat).toContain('this pack included: 1,240');
    expect(flat).toContain('none of which is in this pack: 3');
    expect(flat).toContain('Every signature in this pack was confirmed by its signer');
    expect(flat).toContain('Nobody should give up their rights in the name of security.');
    expect(all).toMatch(/1\s+Zoë Łukasz-Dvořák\s+Kraków\s+Poland\s+30 November 2026/);
    expect(all).toMatch(/5\s+İsmail Işık Şahinoğlu\s+Eskişehir\s+Türkiye\s+19 August 2026/);
  });

  it('dates each row by its day in Brussels, as the CSV does: 23:30 UTC on 30 November is 1 December', async () => {
    const late = Date.UTC(2026, 10, 30, 23, 30);
    const { all } = await render(
      pack({ rows: [{ name: 'Nachteule', town: null, countryName: 'Germany', signedAt: late }] }),
    );
    const row = all.split('\n').find((line) => line.includes('Nachteule'))!;
    expect(row).toContain('1 December 2026');
    expect(row).not.toContain('30 November');
  });

  it('numbers every page "Page X of Y", with the SHA-256 and the address at the foot of each', async () => {
    const { texts, pages, pdfPages } = await render(pack());
    expect(pdfPages).toBe(pages);
    expectPageNumbers(texts, pages);
    for (const text of texts) {
      expect(text).toContain(`CSV SHA-256: ${sha}`);
      expect(text).toContain(verifyUrl);
    }
  });

  it('writes the cover and every label in French for a French-speaking delegation', async () => {
    const { texts, pages, all, flat } = await render(
      pack({ lang: 'fr', letterList: [letter('Léa', 'Liège', 'Merci.')] }),
    );
    expectPageNumbers(texts, pages, 'sur');
    expect(texts[0]).toContain("Madame l'Ambassadrice, Monsieur l'Ambassadeur,");
    expect(texts[0]).toContain('Veuillez trouver ci-joint la pétition');
    expect(texts[0]!.replace(/\s+/g, ' ')).toContain('du 4 juillet 2026 au 30 novembre 2026');
    expect(texts[0]).toContain('Le 30 novembre 2026');
    expect(texts[0]).not.toContain('Dear Ambassador');
    expect(flat).toContain('Signatures dans ce dossier : 6');
    expect(all).toContain('Date de signature');
    expect(all).toContain('Lettre 1 sur 1');
    expect(all).toMatch(/2\s+Ana-María Núñez Pérez\s+Spain\s+2 novembre 2026/);
  });

  it('gives each letter its own page, with its writer’s name and town and date, and continues a long one', async () => {
    const long = Array.from({ length: 12 }, (_, i) => `Paragraph ${i + 1}. ${'These words go on and on. '.repeat(40)}`);
    const letters = [
      letter('Ada Lovelace', 'London', 'First letter: we ask you to act.'),
      letter('Γιάννης Ρίτσος', null, long.join('\n\n')),
      letter('Şule Yılmaz', 'İzmir', 'Third letter, short.'),
    ];
    const { texts, pages } = await render(pack({ letterList: letters }));
    expectPageNumbers(texts, pages);
    const starts = [1, 2, 3].map((n) =>
      texts.findIndex((t) => t.includes(`Letter ${n} of 3`) && !t.includes('(continued)')),
    );
    expect(starts.every((i) => i > 0)).toBe(true);
    expect(texts[starts[0]!]).toContain('From Ada Lovelace, London');
    expect(texts[starts[0]!]).toContain('First letter: we ask you to act.');
    expect(texts[starts[0]!]).not.toContain('Γιάννης');
    expect(texts[starts[1]!]).toContain('From Γιάννης Ρίτσος');
    expect(texts[starts[1]!]).toContain('Confirmed by its writer on 30 November 2026');
    expect(starts[2]! - starts[1]!).toBeGreaterThan(1);
    for (let i = starts[1]! + 1; i < starts[2]!; i++) expect(texts[i]).toContain('Letter 2 of 3 (continued)');
    expect(texts.slice(starts[1]!, starts[2]!).join('\n')).toContain('Paragraph 12.');
    expect(texts[starts[2]!]).toContain('From Şule Yılmaz, İzmir');
    expect(texts[starts[2]!]).not.toContain('Paragraph');
  });

  it('keeps a row on one line when a name is too long for its column, and counts the pages alike', async () => {
    const long = 'Maximilian Alexander Konstantin von Hohenzollern-Sigmaringen-Wittelsbach Σταυρόπουλος-Καραμανλής';
    const rows = (name: (i: number) => string) =>
      Array.from({ length: 120 }, (_, i) => ({
        name: name(i),
        town: 'Saint-Rémy-de-Provence-sur-Mer-et-Montagne',
        countryName: 'Saint Vincent and the Grenadines',
        signedAt: day(9, 30),
      }));
    const short = await render(pack({ rows: rows((i) => `Ann ${i + 1}`) }));
    const longer = await render(pack({ rows: rows((i) => `${long} ${i + 1}`) }));
    expect(longer.pages).toBe(short.pages);
    expectPageNumbers(longer.texts, longer.pages);
    const lines = longer.all.split('\n').filter((l) => l.includes('Maximilian'));
    expect(lines).toHaveLength(120);
    for (const line of lines) expect(line).toMatch(/^\s*\d+\s+Maximilian.*…\s.*30 September 2026\s*$/);
  });

  it('never prints a name in a script the font lacks as empty boxes: the row points to the CSV', async () => {
    const rows = ['Ann Lee', '王小明', 'Νίκος', 'देवनागरी नाम'].map((name) => ({
      name,
      town: null,
      countryName: 'Germany',
      signedAt: day(9, 30),
    }));
    const { all } = await render(pack({ rows }));
    expect(all).toContain('Ann Lee');
    expect(all).toContain('Νίκος');
    expect(all).toContain('(as written in the CSV, row 2)');
    expect(all).toContain('(as written in the CSV, row 4)');
    expect(all).not.toContain('王');
  });

  it('counts the pages of 2,000 rows exactly: every row once, in order, and "Page N of N" on the last page', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      ...scriptNames[i % scriptNames.length]!,
      name: `${scriptNames[i % scriptNames.length]!.name} ${i + 1}`,
    }));
    const { texts, pages, pdfPages, all } = await render(
      pack({ rows, letterList: [letter('Ada', 'Paris', 'Hello.')] }),
    );
    expect(pdfPages).toBe(pages);
    expectPageNumbers(texts, pages);
    for (const row of [rows[0]!, rows[999]!, rows[1999]!]) expect(all).toContain(row.name);
    const table = texts.filter((t) => t.includes('Date signed')).join('\n');
    const numbers = [...table.matchAll(/^\s*([\d,]+)\s+\S.*\d{4}\s*$/gm)].map((m) => Number(m[1]!.replace(/,/g, '')));
    expect(numbers).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    // Cover, petition, then full table pages and the letter: nothing else.
    const tablePages = texts.filter((t) => /Signatures( \(continued\))?\n/.test(t) && /Date signed/.test(t)).length;
    expect(tablePages).toBeGreaterThan(30);
    expect(pages).toBe(2 + tablePages + 1);
  });

  it('streams: most of the PDF has reached the output before the last rows are read', async () => {
    const out = counter();
    let calls = 0;
    let written = -1;
    const doc = pack();
    doc.signers = async function* () {
      calls++;
      for (let i = 0; i < 3000; i++) {
        if (calls === 2 && i === 2999) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          written = out.received;
        }
        yield { ...scriptNames[i % 6]!, name: `Signer ${i}` };
      }
    };
    await renderPackPdf(doc, out);
    expect(written).toBeGreaterThan(0.5 * out.received);
  });

  it('refuses to finish a pack whose rows changed between counting and drawing', async () => {
    const doc = pack();
    let calls = 0;
    doc.signers = async function* () {
      const n = ++calls === 1 ? 100 : 101;
      for (let i = 0; i < n; i++) yield scriptNames[i % 6]!;
    };
    await expect(renderPackPdf(doc, counter())).rejects.toThrow(/changed/);
  });
});

function letter(name: string, town: string | null, body: string): PackLetter {
  return { name, town, body, confirmedAt: day(11, 30) };
}
