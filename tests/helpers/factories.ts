import type { Database } from '../../server/db/database';
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
