import type { Database } from '../../db/database';
import { canonicalEmail } from '../../signatures/rules';

/** Everything known to identify the person whose data is erased, found from their signatures. */
export interface Person {
  /** The address the organiser typed, lower-cased. */
  email: string;
  canonical: string;
  /** Every address (as typed) and name their signatures carry, and those signatures' ids. */
  emails: string[];
  names: string[];
  postcodes: string[];
  signatureIds: number[];
}

/**
 * Removes or blanks one table's traces of a person, inside the erasure's transaction, and says how
 * many rows it touched. Features with tables of their own (letters, delivery batches) add an eraser.
 */
export interface Eraser {
  table: string;
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

/** Mail to the person, and any queued mail whose parameters carry their address. */
function outboxEraser(db: Database): Eraser {
  const remove = db.prepare('DELETE FROM outbox WHERE lower(recipient) = ? OR instr(lower(params), ?) > 0');
  return {
    table: 'outbox',
    erase(person) {
      return [...new Set([person.email, ...person.emails])].reduce(
        (n, email) => n + remove.run(email, email).changes,
        0,
      );
    },
  };
}

/**
 * The audit log keeps what organisers did, but not who it was done to: any address or name of the
 * person in an entry's subject or details becomes "[erased]", and so does a search that found them
 * (a part of their name, their postcode).
 */
function auditEraser(db: Database): Eraser {
  const page = db.prepare('SELECT id, action, subject, details FROM audit_log WHERE id > ? ORDER BY id LIMIT 500');
  const update = db.prepare('UPDATE audit_log SET subject = ?, details = ? WHERE id = ?');
  return {
    table: 'audit_log',
    erase(person) {
      const terms = [...new Set([person.email, ...person.emails, ...person.names])].filter((t) => t.trim().length > 0);
      if (terms.length === 0) return 0;
      // Whole words only, any case: erasing "Al" must not turn "Albania" into "[erased]bania".
      const pattern = new RegExp(
        `(?<![\\p{L}\\p{N}])(?:${terms.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`,
        'giu',
      );
      const clean = (value: unknown): unknown => {
        if (typeof value === 'string') return value.replace(pattern, placeholder);
        if (Array.isArray(value)) return value.map(clean);
        if (value && typeof value === 'object') {
          return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
        }
        return value;
      };
      const searchable = [...person.emails, ...person.names, ...person.postcodes].map((v) => v.toLowerCase());
      const foundThem = (q: unknown) =>
        typeof q === 'string' && q.trim() !== '' && searchable.some((v) => v.includes(q.trim().toLowerCase()));
      let changed = 0;
      let after = 0;
      for (;;) {
        const rows = page.all(after) as Array<{ id: number; action: string; subject: string | null; details: string }>;
        if (rows.length === 0) return changed;
        for (const row of rows) {
          after = row.id;
          const subject = row.subject === null ? null : (clean(row.subject) as string);
          const parsed = clean(JSON.parse(row.details)) as Record<string, unknown>;
          if (row.action === 'signatures.search' && foundThem(parsed.q)) parsed.q = placeholder;
          const details = JSON.stringify(parsed);
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
export function createErasure(db: Database, options: { onErased?: () => void } = {}) {
  const find = db.prepare(
    `SELECT id, name, email, postcode FROM signatures WHERE email_canonical = @canonical OR lower(email) = @email`,
  );
  const last = signaturesEraser(db);
  /** Extension point: letters and delivery insert their erasers here (they run before signatures). */
  const erasers: Eraser[] = [outboxEraser(db), auditEraser(db)];

  function person(emailInput: string): Person {
    const email = emailInput.trim().toLowerCase();
    const canonical = canonicalEmail(email);
    const rows = find.all({ canonical, email }) as Array<{
      id: number;
      name: string;
      email: string;
      postcode: string | null;
    }>;
    return {
      email,
      canonical,
      emails: [...new Set(rows.map((r) => r.email.toLowerCase()))],
      names: [...new Set(rows.map((r) => r.name))],
      postcodes: [...new Set(rows.flatMap((r) => (r.postcode ? [r.postcode] : [])))],
      signatureIds: rows.map((r) => r.id),
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
