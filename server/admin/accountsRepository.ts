import type { Database } from '../db/database';
import type { Role } from './roles';

export interface Organiser {
  id: number;
  email: string;
  passwordHash: string;
  role: Role;
  failedLogins: number;
  lockedUntil: number | null;
  createdAt: number;
  disabled: boolean;
}

interface Row extends Omit<Organiser, 'disabled'> {
  disabled: number;
}

const columns = `id, email, password_hash AS passwordHash, role, failed_logins AS failedLogins,
  locked_until AS lockedUntil, created_at AS createdAt, disabled`;

const toOrganiser = (row: Row | undefined): Organiser | undefined =>
  row ? { ...row, disabled: row.disabled === 1 } : undefined;

export type AccountsRepository = ReturnType<typeof accountsRepository>;

export function accountsRepository(db: Database) {
  const insert = db.prepare(
    `INSERT INTO organisers (email, password_hash, role, created_at) VALUES (@email, @passwordHash, @role, @now)
     ON CONFLICT (email) DO NOTHING`,
  );
  const byEmail = db.prepare(`SELECT ${columns} FROM organisers WHERE email = ?`);
  const byId = db.prepare(`SELECT ${columns} FROM organisers WHERE id = ?`);
  const all = db.prepare(`SELECT ${columns} FROM organisers ORDER BY email`);
  const failure = db.prepare(
    `UPDATE organisers SET failed_logins = failed_logins + 1,
       locked_until = CASE WHEN failed_logins + 1 >= @max THEN @now + @lockoutMs ELSE locked_until END
     WHERE id = @id RETURNING failed_logins AS failedLogins, locked_until AS lockedUntil`,
  );
  const reset = db.prepare('UPDATE organisers SET failed_logins = 0, locked_until = NULL WHERE id = ?');
  const setRole = db.prepare('UPDATE organisers SET role = ? WHERE id = ?');
  const setDisabled = db.prepare('UPDATE organisers SET disabled = ? WHERE id = ?');
  const setHash = db.prepare('UPDATE organisers SET password_hash = ? WHERE id = ?');

  return {
    /** The new id, or undefined when the address already has an account. */
    create(account: { email: string; passwordHash: string; role: Role; now: number }): number | undefined {
      const result = insert.run(account);
      return result.changes === 1 ? Number(result.lastInsertRowid) : undefined;
    },
    findByEmail(email: string): Organiser | undefined {
      return toOrganiser(byEmail.get(email) as Row | undefined);
    },
    findById(id: number): Organiser | undefined {
      return toOrganiser(byId.get(id) as Row | undefined);
    },
    list(): Organiser[] {
      return (all.all() as Row[]).map((r) => toOrganiser(r)!);
    },
    /** Counts a failed login; the account locks when the count reaches `max`. */
    recordFailure(id: number, now: number, max: number, lockoutMs: number) {
      return failure.get({ id, now, max, lockoutMs }) as { failedLogins: number; lockedUntil: number | null };
    },
    resetFailures(id: number): void {
      reset.run(id);
    },
    setRole(id: number, role: Role): void {
      setRole.run(role, id);
    },
    setDisabled(id: number, disabled: boolean): void {
      setDisabled.run(disabled ? 1 : 0, id);
    },
    setPasswordHash(id: number, passwordHash: string): void {
      setHash.run(passwordHash, id);
    },
  };
}
