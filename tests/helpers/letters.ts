import type { ParsedMail } from 'mailparser';
import { sameOrigin, type TestApp } from './testApp';

/** The demand whose letters these helpers write (Italy's delegation, which has an address, is the usual target). */
export const letterDemand = 'progressive-taxation';

export const aLetter: Record<string, string> = {
  country: 'IT',
  name: 'Ada Lovelace',
  email: 'ada@example.org',
  town: 'London',
  ownWords: 'My mother waited two years for an operation in a public hospital.',
  lang: 'auto',
};

/** Text as the page shows it, HTML entities decoded (Handlebars escapes & < > " ' ` =). */
export function unescapeHtml(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#x60;/g, '`')
    .replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');
}

/** The text inside the preview's textarea, with Handlebars' escaping undone. */
function letterText(html: string): string {
  const match = /<textarea id="field-body"[^>]*>([\s\S]*?)<\/textarea>/.exec(html);
  if (!match) throw new Error('no letter on the page');
  return unescapeHtml(match[1]!);
}

/**
 * Form → preview → send → (when `confirm`) the confirmation mail → Confirm, as a browser would.
 * Resolves once the letter is written (and confirmed): the mail it queues may still be on its way.
 */
export async function writeLetter(
  app: TestApp,
  fields: Record<string, string>,
  options: { confirm?: boolean; beforeConfirm?: () => void } = {},
) {
  const agent = app.agent();
  await agent.get(`/demands/${letterDemand}/letters/new`).expect(200);
  const page = await agent
    .post(`/demands/${letterDemand}/letters/preview`)
    .set(sameOrigin)
    .type('form')
    .send(fields)
    .expect(200);
  await agent
    .post(`/demands/${letterDemand}/letters`)
    .set(sameOrigin)
    .type('form')
    .send({ ...fields, body: letterText(page.text) })
    .expect(303);
  if (options.confirm === false) return;
  const isMine = (m: ParsedMail) =>
    !!m.to && 'text' in m.to && m.to.text === fields.email && !!m.subject?.startsWith('Confirm');
  while (!app.smtp!.mails.some(isMine)) await app.smtp!.waitFor(app.smtp!.mails.length + 1);
  const link = /http:\/\/localhost:3000(\/letters\/\d+\.[\w-]{27}\/confirm)/.exec(
    app.smtp!.mails.find(isMine)!.text ?? '',
  )![1]!;
  await agent.get(link).expect(200);
  options.beforeConfirm?.();
  await agent.post(link).set(sameOrigin).type('form').send({}).expect(303);
}
