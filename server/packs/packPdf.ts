/**
 * A hand-in pack as a PDF (issue 11): the cover letter with the address block, the petition, totals
 * and integrity figures, the signature table, then the letters, one per page; "page X of Y", the
 * CSV's SHA-256 and the verification address at the foot of every page.
 *
 * Memory stays flat whatever the size of the pack: the document is laid out twice, first only
 * counting pages (rows have a fixed height, letters are wrapped line by line), then drawing them,
 * and each page goes to `out` as soon as the next one begins; rendering waits while `out` is behind.
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { i18n } from 'i18next';
import PDFDocument from 'pdfkit';
import { createI18n } from '../i18n/i18n';
import { formatDay } from '../time/dates';
import { numberFormat } from '../views/helpers/formatNumber';
import { loadCoverLetter, type CoverLetter } from './coverLetter';
import type { PackDocument } from './packDocument';
import {
  cell,
  contentWidth,
  Flow,
  lineHeight,
  page,
  printable,
  textWidth,
  forgetShapedWords,
  type Pdf,
  type TextStyle,
} from './pdfFlow';

export interface RenderOptions {
  /** The app's translations; loaded from the locale files when not given. */
  i18n?: i18n;
  coverLetter?: CoverLetter;
}

/** DejaVu Sans (Latin, Greek, Cyrillic and Turkish letters), shipped by the npm package dejavu-fonts-ttf. */
export const fontFiles = {
  regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
};

const styles = {
  body: { font: 'regular', size: 10, leading: 1.4 },
  small: { font: 'regular', size: 9, color: '#333333' },
  address: { font: 'regular', size: 10.5, leading: 1.3 },
  addressName: { font: 'bold', size: 10.5, leading: 1.3 },
  subject: { font: 'bold', size: 11.5 },
  title: { font: 'bold', size: 15, leading: 1.25 },
  heading: { font: 'bold', size: 12, leading: 1.6 },
  label: { font: 'regular', size: 8.5, color: '#333333' },
  mono: { font: 'regular', size: 9 },
  footer: { font: 'regular', size: 7, color: '#444444' },
  footerPage: { font: 'bold', size: 8 },
  th: { font: 'bold', size: 8.5 },
  td: { font: 'regular', size: 8.5 },
} satisfies Record<string, TextStyle>;

/** The signature table: fixed row height and column widths (points), so pages are counted, not measured. */
const table = { rowHeight: 13, headHeight: 18, pad: 3 };
const columns = [
  { key: 'number', width: 36 },
  { key: 'name', width: 170 },
  { key: 'town', width: 102 },
  { key: 'country', width: 84 },
  { key: 'date', width: contentWidth - 36 - 170 - 102 - 84 },
] as const;

/** Pages still unread by `out` before rendering waits: a page of the table is ~10 KB compressed. */
const maxBuffered = 512 * 1024;

/** Loaded on first use when the caller gives none. */
const defaults: { i18n?: i18n; coverLetter?: CoverLetter } = {};

interface Pass {
  pages: number;
  rows: number;
  letters: number;
}

export async function renderPackPdf(
  doc: PackDocument,
  out: NodeJS.WritableStream,
  options: RenderOptions = {},
): Promise<{ pages: number }> {
  const t = (options.i18n ?? (defaults.i18n ??= createI18n())).getFixedT(doc.lang);
  const cover = options.coverLetter ?? (defaults.coverLetter ??= loadCoverLetter());
  const tr = (key: string, values: Record<string, unknown> = {}) => t(`packPdf.${key}`, values) as string;
  const pdf: Pdf = new PDFDocument({
    autoFirstPage: false,
    size: 'A4',
    margin: 0,
    compress: true,
    lang: doc.lang,
    displayTitle: true,
    info: {
      Title: tr('documentTitle', { title: doc.petition.title, target: doc.target.name }),
      Subject: doc.csvSha256,
      Creator: 'Undersigned',
      CreationDate: new Date(doc.createdAt),
    },
  });
  pdf.registerFont('regular', fontFiles.regular);
  pdf.registerFont('bold', fontFiles.bold);
  const fmt = (n: number) => numberFormat(doc.lang).format(n);
  const date = (ms: number) => formatDay(ms, doc.lang);
  const writable = out as Writable;

  /** Everything, in order; with `draw` false, only counting. */
  async function layOut(draw: boolean, counted: Pass): Promise<Pass> {
    const flow = new Flow(pdf, draw, async (pageNumber) => {
      if (!draw) return;
      footer(flow, pageNumber, counted.pages);
      forgetShapedWords(pdf);
      // The page before this one is in pdfkit's stream now: let `out` take it before going on.
      while (pdf.readableLength > maxBuffered) {
        if (writable.destroyed || writable.writableEnded) throw new Error('the pack PDF output was closed');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
    await coverPages(flow);
    await petitionPages(flow);
    const rows = await signatureTable(flow);
    const letters = await letterPages(flow, counted.letters);
    return { pages: flow.pages, rows, letters };
  }

  function footer(flow: Flow, pageNumber: number, pages: number): void {
    const y = page.bottom + 26;
    pdf
      .moveTo(page.left, y - 8)
      .lineTo(page.right, y - 8)
      .lineWidth(0.5)
      .strokeColor('#999999')
      .stroke();
    flow.line(tr('footer.sha', { sha: doc.csvSha256 }), page.left, y, styles.footer);
    flow.line(tr('footer.verify', { url: doc.verifyUrl }), page.left, y + 10, styles.footer, { link: doc.verifyUrl });
    const label = tr('footer.page', { page: fmt(pageNumber), pages: fmt(pages) });
    flow.line(label, page.right - textWidth(pdf, label, styles.footerPage), y + 4, styles.footerPage);
  }

  async function coverPages(flow: Flow): Promise<void> {
    await flow.newPage();
    const dated = tr('date', { date: date(doc.createdAt) });
    if (flow.draw) flow.line(dated, page.right - textWidth(pdf, dated, styles.address), flow.y, styles.address);
    flow.space(lineHeight(styles.address) * 2);
    await flow.text(doc.target.name, styles.addressName, { width: contentWidth * 0.6 });
    const lines = doc.target.postalAddress
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    // The stored address usually starts with the delegation's name, printed just above.
    if (lines[0]?.toLowerCase() === doc.target.name.trim().toLowerCase()) lines.shift();
    for (const line of lines) await flow.text(line, styles.address, { width: contentWidth * 0.6 });
    flow.space(28);
    await flow.text(tr('subject', { title: doc.petition.title }), styles.subject);
    flow.space(10);
    const { totals, integrity } = doc;
    const text = cover(doc.lang, {
      petitionTitle: doc.petition.title,
      country: doc.target.countryName,
      hasSignatures: totals.thisPack > 0,
      signatures: tr('people', { count: totals.thisPack, formatted: fmt(totals.thisPack) }),
      runningTotal: tr('signatures', { count: totals.runningTotal, formatted: fmt(totals.runningTotal) }),
      runningTotalNumber: fmt(totals.runningTotal),
      firstDate: integrity.firstSigned === null ? '' : date(integrity.firstSigned),
      lastDate: integrity.lastSigned === null ? '' : date(integrity.lastSigned),
      hasLetters: totals.letters > 0,
      oneLetter: totals.letters === 1,
      letters: tr('letters', { count: totals.letters, formatted: fmt(totals.letters) }),
      sourceAuthor: doc.campaign.sourceAuthor,
      sourceTitle: doc.campaign.sourceTitle,
      sourcePublication: doc.campaign.sourcePublication,
    });
    await flow.text(text, styles.body);
    flow.space(16);
    await checkBox(flow);
  }

  async function checkBox(flow: Flow): Promise<void> {
    const inner = { x: page.left + 10, width: contentWidth - 20 };
    const height = lineHeight(styles.subject) + 2 * lineHeight(styles.label) + 2 * lineHeight(styles.mono) + 20;
    await flow.room(height);
    if (flow.draw) pdf.rect(page.left, flow.y, contentWidth, height).lineWidth(0.75).strokeColor('#555555').stroke();
    flow.space(10);
    await flow.text(tr('check.heading'), styles.subject, inner);
    await flow.text(tr('check.sha'), styles.label, inner);
    await flow.text(doc.csvSha256, styles.mono, inner);
    await flow.text(tr('check.verify'), styles.label, inner);
    if (flow.draw) flow.line(doc.verifyUrl, inner.x, flow.y, styles.mono, { link: doc.verifyUrl });
    flow.space(lineHeight(styles.mono) + 10);
  }

  async function petitionPages(flow: Flow): Promise<void> {
    await flow.newPage();
    await flow.text(tr('petition.heading'), styles.label);
    await flow.text(doc.petition.title, styles.title);
    if (doc.petition.demandTitle)
      await flow.text(tr('petition.demand', { title: doc.petition.demandTitle }), styles.small);
    flow.space(8);
    await flow.text(doc.petition.body, styles.body);
    flow.space(14);
    const { totals, integrity } = doc;
    await flow.text(tr('totals.heading'), styles.heading, { keep: 2 });
    await flow.text(tr('totals.thisPack', { count: fmt(totals.thisPack) }), styles.body);
    const split = { fromCountry: fmt(totals.fromCountry), fromOthers: fmt(totals.fromOthers) };
    await flow.text(tr('totals.split', { ...split, country: doc.target.countryName }), styles.body);
    await flow.text(tr('totals.running', { count: fmt(totals.runningTotal) }), styles.body);
    await flow.text(tr('totals.letters', { count: fmt(totals.letters) }), styles.body);
    flow.space(14);
    await flow.text(tr('integrity.heading'), styles.heading, { keep: 2 });
    if (totals.thisPack > 0) await flow.text(tr('integrity.confirmed'), styles.body);
    else await flow.text(tr('integrity.noSignatures'), styles.body);
    await flow.text(tr('integrity.invalidated', { count: fmt(integrity.invalidated) }), styles.body);
    if (integrity.firstSigned !== null && integrity.lastSigned !== null) {
      const dates = { first: date(integrity.firstSigned), last: date(integrity.lastSigned) };
      await flow.text(tr('integrity.dates', dates), styles.body);
    }
  }

  /** One fixed-height row per signer; a page of the table starts with its heading and column names. */
  async function signatureTable(flow: Flow): Promise<number> {
    const headings = columns.map((c) => tr(`table.${c.key}`));
    const head = (continued: boolean) => {
      if (flow.draw) flow.line(tr(continued ? 'table.continued' : 'table.heading'), page.left, flow.y, styles.heading);
      flow.space(lineHeight(styles.heading) + 4);
      if (flow.draw) {
        let x = page.left;
        columns.forEach((c, i) => {
          flow.line(
            cell(pdf, headings[i]!, styles.th, c.width - 2 * table.pad).text,
            x + table.pad,
            flow.y + 3,
            styles.th,
          );
          x += c.width;
        });
        pdf
          .moveTo(page.left, flow.y + table.headHeight - 1)
          .lineTo(page.right, flow.y + table.headHeight - 1)
          .lineWidth(0.75)
          .strokeColor('#000000')
          .stroke();
      }
      flow.space(table.headHeight);
    };
    let rows = 0;
    for await (const signer of doc.signers()) {
      if (rows === 0) {
        await flow.newPage();
        head(false);
        flow.continuation = () => head(true);
      }
      await flow.room(table.rowHeight);
      rows++;
      if (flow.draw) {
        if (rows % 2 === 0) pdf.rect(page.left, flow.y, contentWidth, table.rowHeight).fill('#efefef');
        // A name in a script the font cannot draw is not printed as empty boxes: the row says where the
        // CSV (which carries every name as written) has it.
        const name = printable(pdf, signer.name) ? signer.name : tr('table.seeCsv', { row: rows });
        const town = signer.town && !printable(pdf, signer.town) ? tr('table.seeCsv', { row: rows }) : signer.town;
        const cells = [fmt(rows), name, town ?? '', signer.countryName, date(signer.signedAt)];
        let x = page.left;
        columns.forEach((c, i) => {
          const fitted = cell(pdf, cells[i]!, styles.td, c.width - 2 * table.pad);
          // Smaller text moves down by the difference in ascent (DejaVu's is 0.93 em): one baseline per row.
          const y = flow.y + 2 + (styles.td.size - fitted.size) * 0.93;
          if (fitted.text) flow.line(fitted.text, x + table.pad, y, { ...styles.td, size: fitted.size });
          x += c.width;
        });
      }
      flow.space(table.rowHeight);
    }
    flow.continuation = null;
    return rows;
  }

  /** Each letter from the top of a page; a long one goes on over the next pages. */
  async function letterPages(flow: Flow, total: number): Promise<number> {
    let number = 0;
    for await (const letter of doc.letters()) {
      number++;
      const values = { number: fmt(number), total: fmt(total) };
      await flow.newPage();
      await flow.text(tr('letter.heading', values), styles.heading);
      const who = { name: letter.name, town: letter.town };
      const from = letter.town ? tr('letter.fromTown', who) : tr('letter.from', who);
      await flow.text(from, { ...styles.body, font: 'bold' });
      await flow.text(tr('letter.confirmed', { date: date(letter.confirmedAt) }), styles.small);
      flow.space(12);
      flow.continuation = () => {
        if (flow.draw) flow.line(tr('letter.continued', values), page.left, flow.y, styles.small);
        flow.space(lineHeight(styles.small) + 8);
      };
      await flow.text(letter.body, styles.body);
      flow.continuation = null;
    }
    return number;
  }

  const counted = await layOut(false, { pages: 0, rows: 0, letters: 0 });
  pdf.pipe(writable);
  try {
    const drawn = await layOut(true, counted);
    if (drawn.pages !== counted.pages || drawn.rows !== counted.rows || drawn.letters !== counted.letters) {
      throw new Error(`the pack changed while it was rendered (${counted.rows} rows, then ${drawn.rows})`);
    }
  } catch (error) {
    pdf.unpipe(writable);
    throw error;
  }
  pdf.end();
  await finished(writable);
  return { pages: counted.pages };
}
