import type { Executor } from '../../server/db/store';

/**
 * A confirmed letter that travels by post (delivery 'post', state 'ready'), written straight to the
 * database as the letter form leaves one for a delegation without an email: it waits for the next
 * hand-in pack of its target for its demand. Answers its id.
 */
export async function addPostLetterTo(
  store: Executor,
  letter: {
    demand: string;
    country: string;
    name: string;
    email: string;
    town?: string;
    body?: string;
    locale?: 'en' | 'fr';
    confirmedAt?: number;
  },
): Promise<number> {
  return store.transaction(async (tx) => {
    const demand = await tx.first(tx.qb.selectFrom('demands').select('id').where('slug', '=', letter.demand));
    const target = await tx.first(
      tx.qb.selectFrom('targets').select('id').where('country_code', '=', letter.country).where('is_default', '=', 1),
    );
    const at = letter.confirmedAt ?? Date.now();
    const row = await tx.first(
      tx.qb
        .insertInto('letters')
        .values({
          demand_id: demand!.id,
          target_id: target!.id,
          country_code: letter.country,
          delivery: 'post',
          name: letter.name,
          email: letter.email,
          email_canonical: letter.email.toLowerCase(),
          town: letter.town ?? null,
          lang: 'en',
          locale: letter.locale ?? 'en',
          fingerprint: Buffer.alloc(0),
          state: 'ready',
          day: new Date(at).toISOString().slice(0, 10),
          created_at: at - 60_000,
          updated_at: at,
          confirmed_at: at,
        })
        .returning('id'),
    );
    await tx.run(
      tx.qb
        .insertInto('letter_texts')
        .values({ letter_id: row!.id, own_words: '', body: letter.body ?? `A letter from ${letter.name}.` }),
    );
    return row!.id;
  });
}

/** Sets (or removes) the postal address of a country's default target, and whether it wants paper. */
export async function setTargetPostIn(
  store: Executor,
  country: string,
  postal: { address?: string | null; forcePost?: boolean },
): Promise<void> {
  await store.run(
    store.qb
      .updateTable('targets')
      .set({
        ...(postal.address !== undefined ? { postal_address: postal.address } : {}),
        ...(postal.forcePost !== undefined ? { force_post: postal.forcePost ? 1 : 0 } : {}),
      })
      .where('country_code', '=', country)
      .where('is_default', '=', 1),
  );
}

/** Every (target, signature) membership held by more than one batch: none, ever (the key says so). */
export async function batchesPerMembership(store: Executor) {
  return store.all(
    store.qb
      .selectFrom('batch_signatures')
      .select(['target_id', 'signature_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['target_id', 'signature_id']),
  );
}

/** A fake of server/packs/packPdf.ts for these tests: the pack's text, one line per item, as "PDF". */
export async function fakePdf(
  doc: import('../../server/packs/packDocument').PackDocument,
  out: NodeJS.WritableStream,
): Promise<{ pages: number }> {
  const lines = [`%FAKE-PDF pack ${doc.batchId}`, doc.target.postalAddress, doc.csvSha256, doc.verifyUrl];
  for await (const s of doc.signers()) lines.push(`signer: ${s.name} | ${s.town ?? ''} | ${s.countryName}`);
  for await (const l of doc.letters()) lines.push(`letter: ${l.name} | ${l.body}`);
  lines.push(`totals: ${JSON.stringify(doc.totals)}`);
  out.write(`${lines.join('\n')}\n`);
  return { pages: 1 };
}
