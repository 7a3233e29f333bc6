import { z } from 'zod';
import type { Config } from '../config';
import type { AccountsRepository, Organiser } from './accountsRepository';
import { hashPassword, minPasswordLength, verifyDummy, verifyPassword } from './passwords';
import { isRole, type Role } from './roles';

export type AccountField = 'email' | 'password' | 'role';
/** Field → the i18n key of an instruction. */
export type AccountErrors = Partial<Record<AccountField, string>>;

export type LoginResult =
  | { ok: true; organiser: Organiser }
  | {
      ok: false;
      /** For the audit log only: the person is told the same thing whatever went wrong. */
      reason: 'unknown' | 'disabled' | 'locked' | 'password';
      organiserId: number | null;
      lockedNow: boolean;
    };

const emailFormat = z.email();
const maxPasswordLength = 256;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Why a password cannot be used, as an i18n key, if it cannot. */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < minPasswordLength) return 'admin.accounts.errors.passwordTooShort';
  if (length > maxPasswordLength) return 'admin.accounts.errors.passwordTooLong';
  return undefined;
}

export type AccountsService = ReturnType<typeof createAccountsService>;

export function createAccountsService(deps: {
  repo: AccountsRepository;
  settings: Config['admin'];
  clock?: () => number;
}) {
  const { repo, settings } = deps;
  const clock = deps.clock ?? Date.now;

  return {
    async create(input: {
      email: string;
      password: string;
      role: string;
    }): Promise<{ ok: true; id: number } | { ok: false; errors: AccountErrors }> {
      const email = normaliseEmail(input.email);
      const errors: AccountErrors = {};
      if (!email) errors.email = 'admin.accounts.errors.emailBlank';
      else if (email.length > 254 || !emailFormat.safeParse(email).success) {
        errors.email = 'admin.accounts.errors.emailInvalid';
      }
      const problem = passwordProblem(input.password);
      if (problem) errors.password = problem;
      if (!isRole(input.role)) errors.role = 'admin.accounts.errors.roleInvalid';
      if (Object.keys(errors).length > 0) return { ok: false, errors };
      if (await repo.findByEmail(email)) return { ok: false, errors: { email: 'admin.accounts.errors.emailTaken' } };
      const passwordHash = await hashPassword(input.password);
      const id = await repo.create({ email, passwordHash, role: input.role as Role, now: clock() });
      if (id === undefined) return { ok: false, errors: { email: 'admin.accounts.errors.emailTaken' } };
      return { ok: true, id };
    },

    /**
     * Checks a login. After `maxFailedLogins` failures in a row the account is locked for
     * `lockoutMs`, during which even the right password is refused. Unknown addresses cost the same
     * hashing time as known ones.
     */
    async login(emailInput: string, password: string): Promise<LoginResult> {
      const organiser = await repo.findByEmail(normaliseEmail(emailInput));
      if (!organiser) {
        await verifyDummy(password);
        return { ok: false, reason: 'unknown', organiserId: null, lockedNow: false };
      }
      const now = clock();
      if (organiser.lockedUntil !== null && organiser.lockedUntil > now) {
        await verifyDummy(password);
        return { ok: false, reason: 'locked', organiserId: organiser.id, lockedNow: false };
      }
      if (organiser.lockedUntil !== null) await repo.resetFailures(organiser.id); // the lock has been served
      const good = (await verifyPassword(organiser.passwordHash, password)) && !organiser.disabled;
      if (!good) {
        const after = await repo.recordFailure(organiser.id, clock(), settings.maxFailedLogins, settings.lockoutMs);
        return {
          ok: false,
          reason: organiser.disabled ? 'disabled' : 'password',
          organiserId: organiser.id,
          lockedNow: after.lockedUntil !== null && after.lockedUntil > now,
        };
      }
      if (organiser.failedLogins > 0) await repo.resetFailures(organiser.id);
      return { ok: true, organiser };
    },

    find: (id: number) => repo.findById(id),
    list: () => repo.list(),
    setRole: (id: number, role: Role) => repo.setRole(id, role),
    setDisabled: (id: number, disabled: boolean) => repo.setDisabled(id, disabled),
    unlock: (id: number) => repo.resetFailures(id),
    isLocked: (o: Organiser) => o.lockedUntil !== null && o.lockedUntil > clock(),
  };
}
