import { prepared, type Executor, type Params } from '../../db/store';
import { countersRepository } from '../../petitions/countersRepository';

const byCanonical = prepared((qb, p: Params<{ canonical: string }>) =>
  qb.selectFrom('signatures').select(['id', 'name', 'email', 'postcode']).where('email_canonical', '=', p.canonical),
);
const signature = prepared((qb, p: Params<{ id: number }>) =>
  qb
    .selectFrom('signatures')
    .select(['id', 'petition_id as petitionId', 'country_code as country', 'state'])
    .where('id', '=', p.id),
);
const removeSignature = prepared((qb, p: Params<{ id: number }>) => qb.deleteFrom('signatures').where('id', '=', p.id));

export type ErasureRepository = ReturnType<typeof erasureRepository>;

/** The signatures' side of an erasure request (the audit log's is in admin/auditRepository, the outbox's in mail). */
export function erasureRepository(db: Executor) {
  return {
    /** The signatures of a canonical address, with what identifies their signer. */
    signaturesOf(
      canonical: string,
    ): Promise<Array<{ id: number; name: string; email: string; postcode: string | null }>> {
      return db.all(byCanonical, { canonical });
    },
    /**
     * Deletes a signature; a validated one was counted, so the counters lose it in the same
     * transaction (call on one). False when there was no such signature.
     */
    async deleteSignature(id: number): Promise<boolean> {
      const s = await db.first(signature, { id });
      if (!s) return false;
      if (s.state === 'validated') await countersRepository(db).withdrawn(s.petitionId, s.country);
      await db.run(removeSignature, { id });
      return true;
    },
  };
}
