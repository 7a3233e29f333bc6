import { sql } from 'kysely';
import type { Database } from '../../server/db/database';
import type { Executor } from '../../server/db/store';
import type { Services } from '../../server/services';
import { consentVersion } from '../../server/signatures/consent';

/**
 * Test data written straight to the database, for tests about what happens after signing (delivery,
 * exports): the signing journey itself is tested through HTTP elsewhere.
 */
export function addValidatedSignatures(
  db: Database,
  petitionSlug: string,
  signers: Array<{ name: string; country: string; postcode?: string; email?: string; consentVersion?: string }>,
  validatedAt = Date.now(),
): number[] {
  const petitionId = db.prepare('SELECT id FROM petitions WHERE slug = ?').pluck().get(petitionSlug) as number;
  const insert = db.prepare(
    `INSERT INTO signatures (petition_id, name, email, email_canonical, country_code, postcode, show_publicly,
       updates_opt_in, consent_version, consent_at, locale, state, created_at, validated_at)
     VALUES (@petitionId, @name, @email, @email, @country, @postcode, 0, 0, @consentVersion, @at, 'en', 'validated', @at, @at)`,
  );
  const count = db.prepare('UPDATE petition_counts SET validated = validated + 1 WHERE petition_id = ?');
  const byCountry = db.prepare(
    `INSERT INTO petition_country_counts (petition_id, country_code, validated) VALUES (?, ?, 1)
     ON CONFLICT DO UPDATE SET validated = validated + 1`,
  );
  return db.transaction(() =>
    signers.map((s, i) => {
      const email = s.email ?? `${s.name.toLowerCase().replace(/\W+/g, '.')}.${i}@example.org`;
      const id = Number(
        insert.run({
          petitionId,
          name: s.name,
          email,
          country: s.country,
          postcode: s.postcode ?? null,
          consentVersion: s.consentVersion ?? consentVersion,
          at: validatedAt,
        }).lastInsertRowid,
      );
      count.run(petitionId);
      byCountry.run(petitionId, s.country);
      return id;
    }),
  )();
}

export function setTargetEmail(db: Database, country: string, email: string | null): void {
  db.prepare('UPDATE targets SET email = ? WHERE country_code = ? AND is_default = 1').run(email, country);
}

/** A target every signature of the petition goes to, whatever the signer's country. */
export function addPetitionTarget(db: Database, petitionSlug: string, target: { name: string; email: string }): number {
  const id = Number(
    db
      .prepare(
        `INSERT INTO targets (kind, country_code, name, languages, email, created_at, updated_at)
         VALUES ('parliamentary_assembly', 'BE', ?, 'en', ?, 0, 0)`,
      )
      .run(target.name, target.email).lastInsertRowid,
  );
  db.prepare('INSERT INTO petition_targets (petition_id, target_id) SELECT id, ? FROM petitions WHERE slug = ?').run(
    id,
    petitionSlug,
  );
  return id;
}

/**
 * addValidatedSignatures through the store, for tests that run on both databases: the same rows and
 * counters, in one transaction; answers their ids.
 */
export async function addValidatedSignaturesTo(
  store: Executor,
  petitionSlug: string,
  signers: Array<{ name: string; country: string; postcode?: string; email?: string; consentVersion?: string }>,
  validatedAt = Date.now(),
): Promise<number[]> {
  return store.transaction(async (tx) => {
    const petition = await tx.first(tx.qb.selectFrom('petitions').select('id').where('slug', '=', petitionSlug));
    const petitionId = petition!.id;
    const ids: number[] = [];
    for (const [i, s] of signers.entries()) {
      const email = s.email ?? `${s.name.toLowerCase().replace(/\W+/g, '.')}.${i}@example.org`;
      const row = await tx.first(
        tx.qb
          .insertInto('signatures')
          .values({
            petition_id: petitionId,
            name: s.name,
            email,
            email_canonical: email,
            country_code: s.country,
            postcode: s.postcode ?? null,
            show_publicly: 0,
            updates_opt_in: 0,
            consent_version: s.consentVersion ?? consentVersion,
            consent_at: validatedAt,
            ip_hash: null,
            locale: 'en',
            state: 'validated',
            fraud_reason: null,
            created_at: validatedAt,
            validated_at: validatedAt,
            invalidated_at: null,
            unsubscribed_at: null,
            anonymised_at: null,
          })
          .returning('id'),
      );
      ids.push(row!.id);
      await tx.run(
        tx.qb
          .updateTable('petition_counts')
          .set({ validated: sql<number>`validated + 1` })
          .where('petition_id', '=', petitionId),
      );
      await tx.run(
        tx.qb
          .insertInto('petition_country_counts')
          .values({ petition_id: petitionId, country_code: s.country, validated: 1 })
          .onConflict((oc) =>
            oc
              .columns(['petition_id', 'country_code'])
              .doUpdateSet({ validated: sql<number>`petition_country_counts.validated + 1` }),
          ),
      );
    }
    return ids;
  });
}

/** setTargetEmail through the store. */
export async function setTargetEmailIn(store: Executor, country: string, email: string | null): Promise<void> {
  await store.run(
    store.qb.updateTable('targets').set({ email }).where('country_code', '=', country).where('is_default', '=', 1),
  );
}

/** addPetitionTarget through the store. */
export async function addPetitionTargetTo(
  store: Executor,
  petitionSlug: string,
  target: { name: string; email: string },
): Promise<number> {
  const row = await store.first(
    store.qb
      .insertInto('targets')
      .values({
        kind: 'parliamentary_assembly',
        country_code: 'BE',
        name: target.name,
        languages: 'en',
        email: target.email,
        created_at: 0,
        updated_at: 0,
      })
      .returning('id'),
  );
  const petition = await store.first(store.qb.selectFrom('petitions').select('id').where('slug', '=', petitionSlug));
  await store.run(store.qb.insertInto('petition_targets').values({ petition_id: petition!.id, target_id: row!.id }));
  return row!.id;
}

/** Queues `count` plain mails to person0@…, person1@…, in one transaction, as a feature would. */
export async function queueMails(services: Pick<Services, 'store' | 'outbox'>, count: number): Promise<void> {
  await services.store.transaction(async (tx) => {
    for (let i = 0; i < count; i++) {
      await services.outbox.enqueue(tx, {
        kind: 'test',
        to: `person${i}@example.org`,
        template: 'already-signed',
        locale: 'en',
        params: { name: `Person ${i}`, petitionTitle: 'A petition', petitionUrl: 'http://localhost/p' },
      });
    }
  });
}
