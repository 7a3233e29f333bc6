import { formBody, formFields } from '../helpers/forms';
import { aLetter, letterDemand } from '../helpers/letters';
import { aSigner, checkEmailLocation, createTestApp, sign, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';

/** Form → preview → send, as a browser would; the answer to the send. */
async function writeLetter(t: TestApp, email: string) {
  const agent = t.agent();
  await agent.get(`/demands/${letterDemand}/letters/new`).expect(200);
  const preview = await agent
    .post(`/demands/${letterDemand}/letters/preview`)
    .type('form')
    .send({ ...aLetter, email })
    .expect(200);
  const send = `/demands/${letterDemand}/letters`;
  return agent
    .post(send)
    .type('form')
    .send(formBody(formFields(preview.text, send)))
    .expect(303);
}

const recipients = (t: TestApp) => t.smtp!.mails.map((m) => m.to && 'text' in m.to && m.to.text).sort();

/** The addresses letters were written from, oldest first. */
async function letterEmailsOf(t: TestApp): Promise<string[]> {
  const rows = await t.services.store.all(t.services.store.qb.selectFrom('letters').select('email').orderBy('id'));
  return rows.map((r) => r.email);
}

describe('allow and block lists of whole email addresses (BLOCKED_EMAILS, ALLOWED_EMAILS)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({
      env: {
        BLOCKED_EMAILS: 'spammer@gmail.com',
        ALLOWED_EMAILS: 'press-office@example.org',
        // One a minute from an address: the allowed address must get past it.
        SIGN_LIMIT_PER_MINUTE: '1',
        LETTER_LIMIT_PER_MINUTE: '1',
      },
    });
  });
  afterEach(() => t.close());
  const letterEmails = () => letterEmailsOf(t);

  it('marks signatures from a blocked address fraudulent, by canonical email, and only those', async () => {
    const agent = t.agent();
    for (const email of ['spammer@gmail.com', 'S.Pammer+x@googlemail.com']) {
      const res = await sign(agent, slug, { ...aSigner, email });
      expect(res.headers.location).toMatch(checkEmailLocation(slug));
    }
    // Another address at the same domain is someone else.
    await sign(t.agent(), slug, { ...aSigner, email: 'spammer2@gmail.com' });
    await t.smtp!.waitFor(1);
    await t.services.sender.drain();
    expect(recipients(t)).toEqual(['spammer2@gmail.com']);
    const rows = await t.services.store.all(
      t.services.store.qb.selectFrom('signatures').select(['email', 'state', 'fraud_reason as reason']).orderBy('id'),
    );
    expect(rows).toEqual([
      { email: 'spammer@gmail.com', state: 'fraudulent', reason: 'blocked_email' },
      { email: 'S.Pammer+x@googlemail.com', state: 'fraudulent', reason: 'blocked_email' },
      { email: 'spammer2@gmail.com', state: 'pending', reason: null },
    ]);
  });

  it('lets an allowed address past the rate limit when signing', async () => {
    const agent = t.agent();
    await sign(agent, slug, { ...aSigner, email: 'someone@example.org' });
    await sign(agent, slug, { ...aSigner, email: 'press-office+petitions@example.org' });
    await sign(agent, slug, { ...aSigner, email: 'someone-else@example.org' });
    const rows = await t.services.store.all(
      t.services.store.qb.selectFrom('signatures').select(['email', 'state']).orderBy('id'),
    );
    expect(rows).toEqual([
      { email: 'someone@example.org', state: 'pending' },
      { email: 'press-office+petitions@example.org', state: 'pending' },
      { email: 'someone-else@example.org', state: 'fraudulent' },
    ]);
  });

  it('refuses letters from a blocked address silently, by canonical email, and only those', async () => {
    await writeLetter(t, 'spam.mer@gmail.com');
    await writeLetter(t, 'spammer2@gmail.com');
    await t.smtp!.waitFor(1);
    await t.services.sender.drain();
    expect(recipients(t)).toEqual(['spammer2@gmail.com']);
    expect(await letterEmails()).toEqual(['spammer2@gmail.com']);
  });

  it('lets an allowed address past the rate limit when writing', async () => {
    await writeLetter(t, 'someone@example.org');
    await writeLetter(t, 'Press-Office@example.org');
    await writeLetter(t, 'someone-else@example.org');
    expect(await letterEmails()).toEqual(['someone@example.org', 'Press-Office@example.org']);
  });
});
