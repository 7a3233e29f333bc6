import { auditRepository } from '../../admin/auditRepository';
import type { Executor } from '../../db/store';
import { outboxErasureRepository } from '../../mail/outboxErasureRepository';
import { canonicalEmail, mentionsAddress, replaceAddress } from '../../signatures/rules';
import { erasureRepository } from './erasureRepository';

/**
 * Everything known to identify the person whose data is erased, found from their signatures and
 * whatever else the erasers know of them (their letters). Everything is matched by `canonical`.
 */
export interface Person {
  /** The address the organiser typed, lower-cased. */
  email: string;
  canonical: string;
  /** Every address (as typed) and name their rows carry, and their signatures' ids. */
  emails: string[];
  names: string[];
  postcodes: string[];
  signatureIds: number[];
  /** How the audit log names their rows in an entry's subject: "signature #3", "letter #12". */
  refs: string[];
}

/**
 * Removes or blanks one table's traces of a person, inside the erasure's transaction `tx`, and says
 * how many rows it touched. Features with tables of their own (letters, delivery batches) add an
 * eraser. Either method may answer at once or with a promise, so a feature can move to the store
 * without a change here.
 */
export interface Eraser {
  table: string;
  /**
   * The names and addresses (as typed) this table holds for the canonical address, and how the audit
   * log names those rows ("letter #12"), read before anything goes.
   */
  identify?(canonical: string, db: Executor): Known | Promise<Known>;
  erase(person: Person, tx: Executor): number | Promise<number>;
}

interface Known {
  names: string[];
  emails: string[];
  refs?: string[];
}

const placeholder = '[erased]';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Signatures go last, and every eraser added later runs before them (rows that refer to signatures). */
const signaturesEraser: Eraser = {
  table: 'signatures',
  async erase(person, tx) {
    const repo = erasureRepository(tx);
    // A validated signature was counted: the counters lose it in the same transaction.
    for (const id of person.signatureIds) await repo.deleteSignature(id);
    return person.signatureIds.length;
  },
};

/** Every string inside a value (a mail's parameters, an audit entry's details), however deep. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

/**
 * Mail to the person, and mail that carries their address anywhere in its parameters (a letter to a
 * delegation is Reply-To them), compared as canonical addresses, whole: erasing ann@x.org leaves the
 * mail of joann@x.org alone.
 */
const outboxEraser: Eraser = {
  table: 'outbox',
  async erase(person, tx) {
    const outbox = outboxErasureRepository(tx);
    let removed = 0;
    for (let after = 0; ;) {
      const rows = await outbox.page(after, 500);
      if (rows.length === 0) return removed;
      for (const row of rows) {
        after = row.id;
        // A digest concerns a batch of signatures, not a person, and its batch refers to it.
        if (row.kind === 'digest') continue;
        const theirs = [row.recipient, ...stringsIn(row.params)].some((s) => mentionsAddress(s, person.canonical));
        if (theirs && (await outbox.remove(row.id))) removed++;
      }
    }
  },
};

/**
 * Detail fields that hold codes or paths, not text anyone typed about a person: never rewritten, nor
 * anything inside them (an account's role stays "viewer" even when someone calls themselves Viewer).
 */
const structuralFields = new Set([
  'action',
  'commandLine',
  'country',
  'demand',
  'kind',
  'lang',
  'locale',
  'method',
  'path',
  'petition',
  'reason',
  'role',
  'state',
]);

/** A subject that is a code, not text: a request's method and path, or a row named by its id ("letter #12"). */
const structuralSubject = /^(?:[A-Z]+ \/\S*|[a-z_]+ #\d+)$/;

/**
 * The audit log keeps what organisers did, but not who it was done to. Any address of the person (in
 * any form that is theirs once canonical) becomes "[erased]" wherever it is: addresses are compared
 * whole, so no one else's is touched. Their names and postcodes are words anyone else may use ("Viewer",
 * "Example"): they are replaced only inside entries that concern the person — entries that mention
 * their address or one of their rows ("letter #12"), and searches that found them — and never in a
 * field that holds a code (a role, a path, an action). Every other entry stays byte for byte.
 */
const auditEraser: Eraser = {
  table: 'audit_log',
  async erase(person, tx) {
    const audit = auditRepository(tx);
    const names = person.names.filter((t) => t.trim().length > 0);
    // Whole words only, any case: erasing "Al" must not turn "Albania" into "[erased]bania".
    const namePattern =
      names.length > 0
        ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${names.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`, 'giu')
        : undefined;
    const postcodes = new Set(person.postcodes.map((p) => p.trim().toLowerCase()).filter(Boolean));
    const refs = new Set(person.refs);
    const withoutAddress = (text: string) => replaceAddress(text, person.canonical, placeholder);
    const withoutPerson = (text: string) => {
      if (postcodes.has(text.trim().toLowerCase())) return placeholder;
      const cleaned = withoutAddress(text);
      return namePattern ? cleaned.replace(namePattern, placeholder) : cleaned;
    };
    /** Every string of a value rewritten by `clean`, except under a structural field (addresses aside). */
    const rewrite = (value: unknown, clean: (text: string) => string, structural = false): unknown => {
      if (typeof value === 'string') return structural ? withoutAddress(value) : clean(value);
      if (Array.isArray(value)) return value.map((v) => rewrite(v, clean, structural));
      if (value && typeof value === 'object') {
        return Object.fromEntries(
          Object.entries(value).map(([k, v]) => [k, rewrite(v, clean, structural || structuralFields.has(k))]),
        );
      }
      return value;
    };
    // What the console's search matches without an @: a part of a name, or a whole postcode.
    const foundThem = (q: unknown) => {
      if (typeof q !== 'string' || q.trim() === '' || q.includes('@')) return false;
      const term = q.trim().toLowerCase();
      return person.names.some((n) => n.toLowerCase().includes(term)) || postcodes.has(term);
    };
    const concernsThem = (row: { action: string; subject: string | null }, details: Record<string, unknown>) => {
      const texts = [row.subject ?? '', ...stringsIn(details)];
      return (
        texts.some((text) => refs.has(text) || mentionsAddress(text, person.canonical)) ||
        (row.action === 'signatures.search' && foundThem(details.q))
      );
    };
    let changed = 0;
    let after = 0;
    for (;;) {
      const rows = await audit.after(after, 500);
      if (rows.length === 0) return changed;
      for (const row of rows) {
        after = row.id;
        const parsed = JSON.parse(row.details) as Record<string, unknown>;
        if (!concernsThem(row, parsed)) continue;
        const subject =
          row.subject === null
            ? null
            : structuralSubject.test(row.subject)
              ? withoutAddress(row.subject)
              : withoutPerson(row.subject);
        const cleaned = rewrite(parsed, withoutPerson) as Record<string, unknown>;
        if (row.action === 'signatures.search' && foundThem(parsed.q)) cleaned.q = placeholder;
        const details = JSON.stringify(cleaned);
        if (subject !== row.subject || details !== row.details) {
          await audit.rewrite(row.id, subject, details);
          changed++;
        }
      }
    }
  },
};

export type Erasure = ReturnType<typeof createErasure>;

/**
 * Erases one person by email across every table (a GDPR erasure request). Each table has its eraser;
 * all run in one store transaction, so an erasure is whole or does not happen.
 */
export function createErasure(store: Executor, options: { onErased?: () => void } = {}) {
  /** Extension point: letters and delivery insert their erasers here (they run before signatures). */
  const erasers: Eraser[] = [outboxEraser, auditEraser];

  async function person(db: Executor, emailInput: string): Promise<Person> {
    const email = emailInput.trim().toLowerCase();
    const canonical = canonicalEmail(email);
    const rows = await erasureRepository(db).signaturesOf(canonical);
    const known: Known[] = [];
    for (const e of erasers) known.push((await e.identify?.(canonical, db)) ?? { names: [], emails: [] });
    return {
      email,
      canonical,
      emails: [
        ...new Set([...rows.map((r) => r.email), ...known.flatMap((k) => k.emails)].map((e) => e.toLowerCase())),
      ],
      names: [...new Set([...rows.map((r) => r.name), ...known.flatMap((k) => k.names)])],
      postcodes: [...new Set(rows.flatMap((r) => (r.postcode ? [r.postcode] : [])))],
      signatureIds: rows.map((r) => r.id),
      refs: [...rows.map((r) => `signature #${r.id}`), ...known.flatMap((k) => k.refs ?? [])],
    };
  }

  return {
    erasers,
    addEraser(eraser: Eraser): void {
      erasers.push(eraser);
    },
    /** What an erasure would find, to show before it runs. */
    preview(email: string): Promise<Person> {
      return person(store, email);
    },
    /** Erases, and says how many rows each table lost or had blanked. */
    async erase(email: string): Promise<Record<string, number>> {
      const result = await store.transaction(async (tx) => {
        const p = await person(tx, email);
        const counts: Record<string, number> = {};
        for (const eraser of [...erasers, signaturesEraser]) {
          counts[eraser.table] = (counts[eraser.table] ?? 0) + (await eraser.erase(p, tx));
        }
        return counts;
      });
      options.onErased?.();
      return result;
    },
  };
}
