import { sql } from 'kysely';
import type { Executor } from '../../server/db/store';
import type { Services } from '../../server/services';
import { consentVersion } from '../../server/signatures/consent';

/**
 * Validated signatures written straight to the database, for tests about what happens after signing
 * (delivery, exports): the same rows and counters the signing path leaves, in one transaction, on
 * either database; answers their ids. The signing journey itself is tested through HTTP elsewhere.
 */
export async function addValidatedSignaturesTo(
  store: Executor,
  petitionSlug: string,
  signers: Array<{
    name: string;
    country: string;
    postcode?: string;
    email?: string;
    consentVersion?: string;
    /** Asked for campaign updates (default no), in this language (default English). */
    updates?: boolean;
    locale?: 'en' | 'fr';
  }>,
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
            updates_opt_in: s.updates ? 1 : 0,
            consent_version: s.consentVersion ?? consentVersion,
            consent_at: validatedAt,
            ip_hash: null,
            locale: s.locale ?? 'en',
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

/** Sets (or removes) the address of a country's default target. */
export async function setTargetEmailIn(store: Executor, country: string, email: string | null): Promise<void> {
  await store.run(
    store.qb.updateTable('targets').set({ email }).where('country_code', '=', country).where('is_default', '=', 1),
  );
}

/** A target every signature of the petition goes to, whatever the signer's country. */
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

/**
 * A campaign update in English to a petition's opted-in signers, as the console's Send does (its
 * first chunk written to the outbox at once); answers how many it went to.
 */
export async function sendUpdate(
  services: Pick<Services, 'updates'>,
  petitionId: number,
  update: { subject: string; message: string },
): Promise<number> {
  const draft = {
    petitionId,
    subjectEn: update.subject,
    bodyEn: update.message,
    subjectFr: '',
    bodyFr: '',
    countries: [],
  };
  const { id } = await services.updates.send(draft, services.updates.newKey(), null);
  return (await services.updates.byId(id))!.recipients;
}
