import type { Database } from '../../db/database';
import type { OutboxRepository } from '../../mail/outboxRepository';
import { canonicalEmail, mentionsAddress, replaceAddress } from '../../signatures/rules';

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
 * Removes or blanks one table's traces of a person, inside the erasure's transaction, and says how
 * many rows it touched. Features with tables of their own (letters, delivery batches) add an eraser.
 */
export interface Eraser {
  table: string;
  /**
   * The names and addresses (as typed) this table holds for the canonical address, and how the audit
   * log names those rows ("letter #12"), read before anything goes.
   */
  identify?(canonical: string): { names: string[]; emails: string[]; refs?: string[] };
  erase(person: Person): number;
}

const placeholder = '[erased]';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Signatures go last, and every eraser added later runs before them (rows that refer to signatures). */
function signaturesEraser(db: Database): Eraser {
  const rows = db.prepare(
    'SELECT id, petition_id AS petitionId, country_code AS country, state FROM signatures WHERE id = ?',
  );
  const decrement = db.prepare('UPDATE petition_counts SET validated = validated - 1 WHERE petition_id = ?');
  const decrementCountry = db.prepare(
    'UPDATE petition_country_counts SET validated = validated - 1 WHERE petition_id = ? AND country_code = ?',
  );
  const remove = db.prepare('DELETE FROM signatures WHERE id = ?');
  return {
    table: 'signatures',
    erase(person) {
      for (const id of person.signatureIds) {
        const s = rows.get(id) as { petitionId: number; country: string; state: string } | undefined;
        if (!s) continue;
        // A validated signature was counted: the counters lose it in the same transaction.
        if (s.state === 'validated') {
          decrement.run(s.petitionId);
          decrementCountry.run(s.petitionId, s.country);
        }
        remove.run(id);
      }
      return person.signatureIds.length;
    },
  };
}

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
function outboxEraser(outbox: OutboxRepository): Eraser {
  return {
    table: 'outbox',
    erase(person) {
      let removed = 0;
      for (let after = 0; ;) {
        const rows = outbox.page(after, 500);
        if (rows.length === 0) return removed;
        for (const row of rows) {
          after = row.id;
          // A digest concerns a batch of signatures, not a person, and its batch refers to it.
          if (row.kind === 'digest') continue;
          const theirs = [row.recipient, ...stringsIn(row.params)].some((s) => mentionsAddress(s, person.canonical));
          if (theirs && outbox.remove(row.id)) removed++;
        }
      }
    },
  };
}

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
function auditEraser(db: Database): Eraser {
  const page = db.prepare('SELECT id, action, subject, details FROM audit_log WHERE id > ? ORDER BY id LIMIT 500');
  const update = db.prepare('UPDATE audit_log SET subject = ?, details = ? WHERE id = ?');
  return {
    table: 'audit_log',
    erase(person) {
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
        const rows = page.all(after) as Array<{ id: number; action: string; subject: string | null; details: string }>;
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
            update.run(subject, details, row.id);
            changed++;
          }
        }
      }
    },
  };
}

export type Erasure = ReturnType<typeof createErasure>;

/**
 * Erases one person by email across every table (a GDPR erasure request). Each table has its eraser;
 * all run in one transaction, so an erasure is whole or does not happen.
 */
export function createErasure(db: Database, options: { outbox: OutboxRepository; onErased?: () => void }) {
  const find = db.prepare(`SELECT id, name, email, postcode FROM signatures WHERE email_canonical = ?`);
  const last = signaturesEraser(db);
  /** Extension point: letters and delivery insert their erasers here (they run before signatures). */
  const erasers: Eraser[] = [outboxEraser(options.outbox), auditEraser(db)];

  function person(emailInput: string): Person {
    const email = emailInput.trim().toLowerCase();
    const canonical = canonicalEmail(email);
    const rows = find.all(canonical) as Array<{ id: number; name: string; email: string; postcode: string | null }>;
    const known = erasers.map((e) => e.identify?.(canonical) ?? { names: [], emails: [] });
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
    preview(email: string): Person {
      return person(email);
    },
    /** Erases, and says how many rows each table lost or had blanked. */
    erase(email: string): Record<string, number> {
      const result = db.transaction(() => {
        const p = person(email);
        const counts: Record<string, number> = {};
        for (const eraser of [...erasers, last]) counts[eraser.table] = (counts[eraser.table] ?? 0) + eraser.erase(p);
        return counts;
      })();
      options.onErased?.();
      return result;
    },
  };
}
