import crypto from 'node:crypto';
import { once } from 'node:events';
import { displayCountry } from '../campaign/countries';
import type { Store } from '../db/store';
import { csvRow } from '../csv';
import { digestCsvHeader, digestCsvRow, townFor } from '../delivery/digest';
import { targetLang } from '../delivery/deliveryService';
import type { Outbox } from '../mail/outbox';
import type { PetitionsRepository } from '../petitions/petitionsRepository';
import type { LettersService } from '../letters/lettersService';
import type { PackDocument, PackLetter, PackSigner } from './packDocument';
import type { HandIn } from './packForm';
import { loadPackPdf, PackPdfUnavailable, type RenderPackPdf } from './packPdfRenderer';
import { packsRepository, type PackRow } from './packsRepository';
import type { Lang } from '../i18n/i18n';
import { dayMs, isoDay } from '../time/dates';

/** The CSV of a pack that carries letters: the digest's columns, and each letter's SHA-256. */
const packCsvHeader = csvRow(['name', 'postcode_or_town', 'country', 'date_signed', 'letter_sha256']);

/** A recorded pack can be taken back for this long; its letters' writers are mailed once it has passed. */
export const undoWindowMs = dayMs;
/** Rows read at a time: a pack of any size stays within a page of memory. */
const pageSize = 500;

export type RecordOutcome = { status: 'recorded'; letters: number; mails: number } | { status: 'already' | 'unknown' };
export type UndoOutcome = { status: 'undone'; letters: number } | { status: 'tooLate' | 'notRecorded' | 'unknown' };

export interface Delegation {
  target: string;
  country: string;
  due: PackRow[];
  recorded: PackRow[];
}

export type PacksService = ReturnType<typeof createPacksService>;

/**
 * Hand-in packs: the postal batches the planner makes due (deliveryService), printed (PDF, CSV) and
 * recorded by an organiser as handed in or posted, which makes them sent and their letters sent; the
 * record can be taken back within 24 hours, so the writers' mails wait until then.
 */
export function createPacksService(deps: {
  store: Store;
  petitions: PetitionsRepository;
  outbox: Outbox;
  config: { baseUrl: string; secret: string; mailFrom: string };
  clock?: () => number;
  /** The PDF renderer; by default server/packs/packPdf.ts, loaded when first needed. */
  renderPdf?: RenderPackPdf;
  /** What becomes of a pack's letters when it is recorded or taken back (the letters service). */
  letters: Pick<LettersService, 'lettersHandedIn' | 'lettersHandInUndone'>;
  /** Told once a record or an undo has committed: the public delivery record has changed. */
  onChange?: () => void;
}) {
  const { store, config } = deps;
  const clock = deps.clock ?? Date.now;
  const repo = packsRepository(store);
  const domain = /@([^>\s]+)/.exec(config.mailFrom)?.[1] ?? 'undersigned.localhost';
  const mailPrefix = (batchId: number) => `<handed-in.${batchId}.`;

  async function* signerRows(batchId: number) {
    for (let after = 0; ;) {
      const page = await repo.signersPage(batchId, after, pageSize);
      yield* page;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.id;
    }
  }

  async function* letterRows(batchId: number) {
    for (let after = 0; ;) {
      const page = await repo.lettersPage(batchId, after, pageSize);
      yield* page;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.id;
    }
  }

  /**
   * The pack's CSV, a page of rows at a time, to `write` (which may wait for a slow reader). A pack
   * of signatures only is the digest's CSV. A pack that carries letters lists them too, after the
   * signatures, with the SHA-256 of each letter's text in a fifth column: the pack's checksum then
   * vouches for its letters as well, and two packs of letters never share one.
   */
  async function eachCsvChunk(
    pack: PackRow,
    write: (chunk: string) => unknown,
  ): Promise<{ sha: string; count: number }> {
    const lang = targetLang(pack.targetLanguages);
    const countryName = (code: string) => displayCountry(code, lang);
    // Letters are few (one page each in the PDF): their rows are made first, to choose the header.
    const letters: string[] = [];
    for await (const l of letterRows(pack.id)) {
      letters.push(
        csvRow([
          l.name,
          l.town ?? '',
          countryName(pack.country),
          isoDay(l.confirmedAt),
          crypto.createHash('sha256').update(l.body, 'utf8').digest('hex'),
        ]),
      );
    }
    const withLetters = letters.length > 0;
    const hash = crypto.createHash('sha256');
    let count = 0;
    let chunk = withLetters ? packCsvHeader : digestCsvHeader;
    for await (const s of signerRows(pack.id)) {
      const row = digestCsvRow(s, countryName);
      // The same row, with the letter column left empty.
      chunk += withLetters ? `${row.slice(0, -2)},\r\n` : row;
      if (++count % pageSize === 0) {
        hash.update(chunk, 'utf8');
        await write(chunk);
        chunk = '';
      }
    }
    chunk += letters.join('');
    hash.update(chunk, 'utf8');
    await write(chunk);
    return { sha: hash.digest('hex'), count };
  }

  /** The pack's checksum; a due pack remembers it (the one printed on it), a recorded one keeps its own. */
  async function checksum(pack: PackRow): Promise<string> {
    if (pack.state === 'sent' && pack.csvSha256) return pack.csvSha256;
    const { sha, count } = await eachCsvChunk(pack, () => undefined);
    if (pack.state === 'queued' && sha !== pack.csvSha256) await repo.setRendered(pack.id, sha, count);
    return sha;
  }

  async function document(batchId: number): Promise<PackDocument | undefined> {
    const pack = await repo.find(batchId);
    if (!pack) return undefined;
    const lang = targetLang(pack.targetLanguages);
    const [petition, campaign, figures, invalidated, earlier, sha] = [
      await deps.petitions.findById(pack.petitionId, lang),
      await deps.petitions.campaign(lang),
      await repo.figures(pack.id, pack.country),
      await repo.invalidated(pack.petitionId, pack.targetId),
      await repo.earlier(pack.petitionId, pack.targetId, pack.id),
      await checksum(pack),
    ];
    const country = (code: string) => displayCountry(code, lang);
    return {
      batchId: pack.id,
      lang,
      target: { name: pack.target, countryName: country(pack.country), postalAddress: pack.postalAddress ?? '' },
      petition: {
        slug: pack.petition,
        title: petition?.title ?? pack.petition,
        body: petition?.body ?? '',
        demandTitle: petition?.demandTitle ?? null,
      },
      campaign: {
        sourceAuthor: campaign?.source.author ?? '',
        sourceTitle: campaign?.source.title ?? '',
        sourcePublication: campaign?.source.publication ?? '',
      },
      createdAt: pack.createdAt,
      totals: {
        thisPack: figures.count,
        runningTotal: earlier + figures.count,
        fromCountry: figures.fromCountry,
        fromOthers: figures.count - figures.fromCountry,
        letters: figures.letters,
      },
      integrity: { confirmedByEmail: true, invalidated, firstSigned: figures.first, lastSigned: figures.last },
      csvSha256: sha,
      verifyUrl: `${config.baseUrl}/verify/${sha.slice(0, 12)}`,
      async *signers(): AsyncIterable<PackSigner> {
        for await (const s of signerRows(pack.id)) {
          yield { name: s.name, town: townFor(s), countryName: country(s.country), signedAt: s.validatedAt };
        }
      },
      async *letters(): AsyncIterable<PackLetter> {
        for await (const l of letterRows(pack.id)) {
          yield { name: l.name, town: l.town, body: l.body, confirmedAt: l.confirmedAt };
        }
      },
    };
  }

  return {
    /** Every pack due or recorded, per delegation (by country), petitions titled in `lang`. */
    async byDelegation(lang: Lang): Promise<Delegation[]> {
      const out = new Map<number, Delegation>();
      for (const pack of await repo.list(lang)) {
        let d = out.get(pack.targetId);
        if (!d) out.set(pack.targetId, (d = { target: pack.target, country: pack.country, due: [], recorded: [] }));
        (pack.state === 'queued' ? d.due : d.recorded).push(pack);
      }
      return [...out.values()];
    },
    /** The time as the service sees it (a record's day may not be after it). */
    now: clock,
    list: () => repo.list(),
    find: (id: number) => repo.find(id),
    document,
    /** Writes the pack's CSV to `out` with backpressure; answers its SHA-256 (remembered on a due pack). */
    async writeCsv(batchId: number, out: NodeJS.WritableStream): Promise<string | undefined> {
      const pack = await repo.find(batchId);
      if (!pack) return undefined;
      const { sha, count: n } = await eachCsvChunk(pack, async (chunk) => {
        if (chunk && !out.write(chunk, 'utf8')) await once(out, 'drain');
      });
      if (pack.state === 'queued' && sha !== pack.csvSha256) await repo.setRendered(pack.id, sha, n);
      return sha;
    },
    /** Whether this build can make a pack's PDF (server/packs/packPdf.ts is there). */
    async pdfAvailable(): Promise<boolean> {
      if (deps.renderPdf) return true;
      return loadPackPdf().then(
        () => true,
        (error: unknown) => {
          if (error instanceof PackPdfUnavailable) return false;
          throw error;
        },
      );
    },
    /** Writes the pack's PDF to `out`; undefined when there is no such pack. */
    async writePdf(batchId: number, out: NodeJS.WritableStream): Promise<{ pages: number } | undefined> {
      const doc = await document(batchId);
      if (!doc) return undefined;
      const render = deps.renderPdf ?? (await loadPackPdf());
      return render(doc, out);
    },
    filename(pack: Pick<PackRow, 'id' | 'petition' | 'country'>, ext: 'pdf' | 'csv'): string {
      return `pack-${pack.petition}-${pack.country.toLowerCase()}-${pack.id}.${ext}`;
    },

    /**
     * Records a due pack as handed in or posted: the batch is sent (with when, how, by whom), its
     * letters are sent and counted, and each writer's mail is queued to go once the undo window has
     * passed. Recording again changes nothing ('already').
     */
    async record(batchId: number, handIn: HandIn, organiserId: number | null): Promise<RecordOutcome> {
      const pack = await repo.find(batchId);
      if (!pack) return { status: 'unknown' };
      // The checksum printed on the pack: the one its last download showed, kept with the record;
      // a pack recorded without ever being downloaded gets its checksum now.
      if (pack.state === 'queued' && !pack.csvSha256) await checksum(pack);
      const outcome = await store.transaction(async (tx): Promise<RecordOutcome> => {
        const now = clock();
        const r = packsRepository(tx);
        const recorded = await r.record({ batchId, ...handIn, now, by: organiserId });
        if (!recorded) return { status: 'already' };
        // Its letters are sent and counted; each writer's mail waits out the undo window, under a
        // Message-ID the undo can find it by.
        const letters = await deps.letters.lettersHandedIn(tx, batchId, now, handIn.handedInAt, {
          notBefore: now + undoWindowMs,
          messageId: (i) => `${mailPrefix(batchId)}${now}.${i}@${domain}>`,
        });
        return { status: 'recorded', letters, mails: letters };
      });
      if (outcome.status === 'recorded') deps.onChange?.();
      return outcome;
    },

    /** Takes a record back within 24 hours: the pack is due again, its letters ready, no mail goes. */
    async undo(batchId: number): Promise<UndoOutcome> {
      const outcome = await store.transaction(async (tx): Promise<UndoOutcome> => {
        const now = clock();
        const r = packsRepository(tx);
        const pack = await r.find(batchId);
        if (!pack) return { status: 'unknown' };
        if (pack.state !== 'sent' || pack.recordedAt === null) return { status: 'notRecorded' };
        if (now - pack.recordedAt >= undoWindowMs || !(await r.undo(batchId, now - undoWindowMs))) {
          return { status: 'tooLate' };
        }
        const letters = await deps.letters.lettersHandInUndone(tx, batchId, now);
        await r.dropQueuedMails(mailPrefix(batchId));
        return { status: 'undone', letters };
      });
      if (outcome.status === 'undone') deps.onChange?.();
      return outcome;
    },
    /** Whether a recorded pack can still be taken back at `now`. */
    undoable: (pack: Pick<PackRow, 'state' | 'recordedAt'>, now = clock()): boolean =>
      pack.state === 'sent' && pack.recordedAt !== null && now - pack.recordedAt < undoWindowMs,
  };
}
