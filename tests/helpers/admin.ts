import { sql } from 'kysely';
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
 * given states and times (signing each through HTTP and mail would take minutes). Through the store,
 * so on either database: rows go in 500 at a time, the counters move once per petition and country.
 */
export async function seedSignatures(services: Services, rows: SeedSignature[]): Promise<void> {
  const { store, config } = services;
  await store.transaction(async (tx) => {
    const petitionIds = new Map<string, number>();
    for (const slug of new Set(rows.map((r) => r.petition))) {
      const petition = await tx.first(tx.qb.selectFrom('petitions').select('id').where('slug', '=', slug));
      if (!petition) throw new Error(`no petition ${slug}`);
      petitionIds.set(slug, petition.id);
    }
    const validated = new Map<number, Map<string, number>>();
    const values = rows.map((r) => {
      const petitionId = petitionIds.get(r.petition)!;
      const state = r.state ?? 'validated';
      const createdAt = r.createdAt ?? Date.now();
      const country = r.country ?? 'FR';
      if (state === 'validated') {
        const byCountry = validated.get(petitionId) ?? new Map<string, number>();
        byCountry.set(country, (byCountry.get(country) ?? 0) + 1);
        validated.set(petitionId, byCountry);
      }
      // Every column given: SQLite takes no DEFAULT in a multi-row VALUES.
      return {
        petition_id: petitionId,
        name: r.name ?? 'Test Signer',
        email: r.email,
        email_canonical: canonicalEmail(r.email),
        country_code: country,
        postcode: r.postcode ?? null,
        show_publicly: 1 as const,
        updates_opt_in: r.updates ? (1 as const) : (0 as const),
        consent_version: 'test',
        consent_at: createdAt,
        ip_hash: r.ip ? hashIp(config.secret, r.ip) : null,
        locale: 'en',
        state,
        fraud_reason: null,
        created_at: createdAt,
        validated_at: state === 'validated' ? (r.validatedAt ?? createdAt) : null,
        invalidated_at: null,
        unsubscribed_at: null,
        anonymised_at: null,
      };
    });
    for (let i = 0; i < values.length; i += 500) {
      await tx.run(tx.qb.insertInto('signatures').values(values.slice(i, i + 500)));
    }
    for (const [petitionId, byCountry] of validated) {
      const total = [...byCountry.values()].reduce((a, b) => a + b, 0);
      await tx.run(
        tx.qb
          .updateTable('petition_counts')
          .set({ validated: sql<number>`validated + ${total}` })
          .where('petition_id', '=', petitionId),
      );
      for (const [country, n] of byCountry) {
        await tx.run(
          tx.qb
            .insertInto('petition_country_counts')
            .values({ petition_id: petitionId, country_code: country, validated: n })
            .onConflict((oc) =>
              oc
                .columns(['petition_id', 'country_code'])
                .doUpdateSet({ validated: sql<number>`petition_country_counts.validated + ${n}` }),
            ),
        );
      }
    }
  });
  services.petitions.invalidate();
}
