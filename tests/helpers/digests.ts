import { parse } from 'csv-parse/sync';
import type { ParsedMail } from 'mailparser';
import type { Executor } from '../../server/db/store';
import { addPetitionTargetTo, setTargetEmailIn } from './factories';

/** The delegations the delivery tests address, each at `<country>@nato.example`. */
export const countries = ['IT', 'DE', 'PL', 'ES'];
export const deliverySlug = 'stay-in-mine-and-cluster-bans';

/** Addresses for the countries' delegations, and a target every signature of the petition goes to. */
export async function addressTargets(store: Executor): Promise<void> {
  for (const c of countries) await setTargetEmailIn(store, c, `${c.toLowerCase()}@nato.example`);
  await addPetitionTargetTo(store, deliverySlug, { name: 'Everyone', email: 'everyone@example.org' });
}

/** Received digests, one per Message-ID (a re-send after a crash carries the same one). */
export function delivered(mails: ParsedMail[]): Map<string, { to: string; names: string[] }> {
  const byId = new Map<string, { to: string; names: string[] }>();
  for (const mail of mails) {
    const csv = mail.attachments.find((a) => a.contentType.startsWith('text/csv'))!.content.toString('utf8');
    const names = (parse(csv) as string[][]).slice(1).map((r) => r[0]!);
    byId.set(mail.messageId!, { to: mail.to && 'text' in mail.to ? mail.to.text : '', names });
  }
  return byId;
}

/** What each target should have received, and what it did (names sorted), to compare. */
export function perTarget(mails: ParsedMail[], signers: Array<{ name: string; country: string }>) {
  const got = new Map<string, string[]>();
  for (const { to, names } of delivered(mails).values()) got.set(to, [...(got.get(to) ?? []), ...names]);
  const targets = [...countries.map((c) => [c, `${c.toLowerCase()}@nato.example`]), ['all', 'everyone@example.org']];
  const expected = targets.map(([label]) => [
    label,
    signers
      .filter((s) => label === 'all' || s.country === label)
      .map((s) => s.name)
      .sort(),
  ]);
  const actual = targets.map(([label, address]) => [label, [...(got.get(address!) ?? [])].sort()]);
  return { expected, actual };
}

/** Every validated signature in exactly one delivered digest per target it is addressed to. */
export function expectEachSignatureOncePerTarget(
  mails: ParsedMail[],
  signers: Array<{ name: string; country: string }>,
): void {
  const { expected, actual } = perTarget(mails, signers);
  expect(actual).toEqual(expected);
}
