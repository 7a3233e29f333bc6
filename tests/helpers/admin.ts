import type TestAgent from 'supertest/lib/agent';
import type { Role } from '../../server/admin/roles';
import type { Services } from '../../server/services';
import { canonicalEmail } from '../../server/signatures/rules';
import { hashIp } from '../../server/security/tokens';
import { csrfFrom } from './testApp';

export const password = 'correct horse battery staple';

/** An account made the way `npm run admin:create` makes one. */
export async function createAccount(services: Services, email: string, role: Role = 'admin'): Promise<number> {
  const result = await services.admin.accounts.create({ email, password, role });
  if (!result.ok) throw new Error(`could not create ${email}: ${JSON.stringify(result.errors)}`);
  return result.id;
}

/** The cookie header value a response set for the console session, if any. */
export function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const cookies = (res.headers['set-cookie'] as string[] | undefined) ?? [];
  return cookies.find((c) => c.startsWith('undersigned.sid='));
}

/** Opens the login page for its token and logs in, as a browser would. */
export async function login(agent: TestAgent, email: string, pass = password) {
  const page = await agent.get('/admin/login').expect(200);
  return agent
    .post('/admin/login')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), email, password: pass });
}

/** A CSRF token from any console page (every page carries the logout form). */
export async function consoleToken(agent: TestAgent, path = '/admin'): Promise<string> {
  const page = await agent.get(path).expect(200);
  return csrfFrom(page.text);
}

export interface SeedSignature {
  petition: string;
  name?: string;
  email: string;
  country?: string;
  postcode?: string | null;
  state?: 'pending' | 'validated' | 'fraudulent' | 'invalidated';
  updates?: boolean;
  ip?: string;
  createdAt?: number;
  validatedAt?: number;
}

/**
 * Rows as the signing path leaves them, counters included, for tests that need many signatures in
 * given states and times (signing each through HTTP and mail would take minutes).
 */
export function seedSignatures(services: Services, rows: SeedSignature[]): void {
  const { db, config } = services;
  const petitionId = db.prepare('SELECT id FROM petitions WHERE slug = ?').pluck();
  const insert = db.prepare(
    `INSERT INTO signatures (petition_id, name, email, email_canonical, country_code, postcode, show_publicly,
       updates_opt_in, consent_version, consent_at, ip_hash, locale, state, created_at, validated_at)
     VALUES (@petitionId, @name, @email, @canonical, @country, @postcode, 1, @updates, 'test', @createdAt, @ipHash,
       'en', @state, @createdAt, @validatedAt)`,
  );
  const bump = db.prepare('UPDATE petition_counts SET validated = validated + 1 WHERE petition_id = ?');
  const bumpCountry = db.prepare(
    `INSERT INTO petition_country_counts (petition_id, country_code, validated) VALUES (?, ?, 1)
     ON CONFLICT (petition_id, country_code) DO UPDATE SET validated = validated + 1`,
  );
  db.transaction(() => {
    for (const r of rows) {
      const id = petitionId.get(r.petition) as number;
      const state = r.state ?? 'validated';
      const createdAt = r.createdAt ?? Date.now();
      const country = r.country ?? 'FR';
      insert.run({
        petitionId: id,
        name: r.name ?? 'Test Signer',
        email: r.email,
        canonical: canonicalEmail(r.email),
        country,
        postcode: r.postcode ?? null,
        updates: r.updates ? 1 : 0,
        createdAt,
        ipHash: r.ip ? hashIp(config.secret, r.ip) : null,
        state,
        validatedAt: state === 'validated' ? (r.validatedAt ?? createdAt) : null,
      });
      if (state === 'validated') {
        bump.run(id);
        bumpCountry.run(id, country);
      }
    }
  })();
  services.petitions.invalidate();
}
