import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';
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

const select = (qb: Parameters<Parameters<typeof prepared>[0]>[0]) =>
  qb
    .selectFrom('organisers')
    .select([
      'id',
      'email',
      'password_hash as passwordHash',
      'role',
      'failed_logins as failedLogins',
      'locked_until as lockedUntil',
      'created_at as createdAt',
      'disabled',
    ]);

const toOrganiser = (row: Row | undefined): Organiser | undefined =>
  row ? { ...row, disabled: row.disabled === 1 } : undefined;

const insert = prepared((qb, p: Params<{ email: string; passwordHash: string; role: Role; now: number }>) =>
  qb
    .insertInto('organisers')
    .values({ email: p.email, password_hash: p.passwordHash, role: p.role, created_at: p.now })
    .onConflict((oc) => oc.column('email').doNothing())
    .returning('id'),
);
const byEmail = prepared((qb, p: Params<{ email: string }>) => select(qb).where('email', '=', p.email));
const byId = prepared((qb, p: Params<{ id: number }>) => select(qb).where('id', '=', p.id));
const all = prepared((qb) => select(qb).orderBy('email'));
const failure = prepared(
  (_qb, p: Params<{ id: number; max: number; lockUntil: number }>) =>
    sql<{ failedLogins: number; lockedUntil: number | null }>`UPDATE organisers SET failed_logins = failed_logins + 1,
       locked_until = CASE WHEN failed_logins + 1 >= ${p.max} THEN ${p.lockUntil} ELSE locked_until END
     WHERE id = ${p.id} RETURNING failed_logins AS "failedLogins", locked_until AS "lockedUntil"`,
);
const reset = prepared((qb, p: Params<{ id: number }>) =>
  qb.updateTable('organisers').set({ failed_logins: 0, locked_until: null }).where('id', '=', p.id),
);
const setRole = prepared((qb, p: Params<{ id: number; role: Role }>) =>
  qb.updateTable('organisers').set({ role: p.role }).where('id', '=', p.id),
);
const setDisabled = prepared((qb, p: Params<{ id: number; disabled: 0 | 1 }>) =>
  qb.updateTable('organisers').set({ disabled: p.disabled }).where('id', '=', p.id),
);
const setHash = prepared((qb, p: Params<{ id: number; passwordHash: string }>) =>
  qb.updateTable('organisers').set({ password_hash: p.passwordHash }).where('id', '=', p.id),
);

export type AccountsRepository = ReturnType<typeof accountsRepository>;

export function accountsRepository(db: Executor) {
  return {
    /** The new id, or undefined when the address already has an account. */
    async create(account: {
      email: string;
      passwordHash: string;
      role: Role;
      now: number;
    }): Promise<number | undefined> {
      return (await db.first(insert, account))?.id;
    },
    async findByEmail(email: string): Promise<Organiser | undefined> {
      return toOrganiser((await db.first(byEmail, { email })) as Row | undefined);
    },
    async findById(id: number): Promise<Organiser | undefined> {
      return toOrganiser((await db.first(byId, { id })) as Row | undefined);
    },
    async list(): Promise<Organiser[]> {
      return ((await db.all(all)) as Row[]).map((r) => toOrganiser(r)!);
    },
    /** Counts a failed login; the account locks when the count reaches `max`. */
    async recordFailure(id: number, now: number, max: number, lockoutMs: number) {
      return (await db.first(failure, { id, max, lockUntil: now + lockoutMs }))!;
    },
    async resetFailures(id: number): Promise<void> {
      await db.run(reset, { id });
    },
    async setRole(id: number, role: Role): Promise<void> {
      await db.run(setRole, { id, role });
    },
    async setDisabled(id: number, disabled: boolean): Promise<void> {
      await db.run(setDisabled, { id, disabled: disabled ? 1 : 0 });
    },
    async setPasswordHash(id: number, passwordHash: string): Promise<void> {
      await db.run(setHash, { id, passwordHash });
    },
  };
}
