import type { Store } from '../../server/db/store';

const day = 24 * 60 * 60 * 1000;
export { day };

/**
 * A letter that already went out (state `sent` by email, or `self_sent`) at `sentAt`, to the default
 * delegation of `country`, straight into the database: for the questionnaire's sweep and tables.
 */
export async function sentLetter(
  store: Store,
  letter: {
    demand: string;
    country: string;
    email: string;
    sentAt: number;
    state?: 'sent' | 'self_sent';
    locale?: 'en' | 'fr';
    askReply?: boolean;
  },
): Promise<number> {
  return store.transaction(async (tx) => {
    const demand = await tx.first(tx.qb.selectFrom('demands').select('id').where('slug', '=', letter.demand));
    const target = await tx.first(
      tx.qb.selectFrom('targets').select('id').where('country_code', '=', letter.country).where('is_default', '=', 1),
    );
    const state = letter.state ?? 'sent';
    const row = await tx.first(
      tx.qb
        .insertInto('letters')
        .values({
          demand_id: demand!.id,
          target_id: target!.id,
          country_code: letter.country,
          delivery: state === 'sent' ? 'email' : 'self',
          name: 'Grace Hopper',
          email: letter.email,
          email_canonical: letter.email.toLowerCase(),
          town: null,
          lang: 'en',
          locale: letter.locale ?? 'en',
          fingerprint: Buffer.alloc(0),
          state,
          day: new Date(letter.sentAt).toISOString().slice(0, 10),
          created_at: letter.sentAt - 60_000,
          updated_at: letter.sentAt,
          confirmed_at: letter.sentAt - 30_000,
          sent_at: letter.sentAt,
          ask_reply: letter.askReply === false ? 0 : 1,
        })
        .returning('id'),
    );
    await tx.run(tx.qb.insertInto('letter_texts').values({ letter_id: row!.id, own_words: '', body: 'A letter.' }));
    return row!.id;
  });
}
