import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseDay } from '../exports/exportService';
import type { PetitionsService } from '../../petitions/petitionsService';
import { hashIp } from '../../security/tokens';
import { canonicalEmail } from '../../signatures/rules';
import type { Executor } from '../../db/store';
import { signatureAdminRepository, type FoundSignature, type InvalidationCriteria } from './signatureAdminRepository';
import { dayMs } from '../../time/dates';

export interface InvalidationFormValues {
  petition: string;
  email: string;
  domain: string;
  ip: string;
  postcode: string;
  from: string;
  to: string;
}

export type InvalidationErrors = Partial<Record<keyof InvalidationFormValues | 'criteria', string>>;

const fields = ['petition', 'email', 'domain', 'ip', 'postcode', 'from', 'to'] as const;
/** A search shows at most this many signatures, newest first, and says how many there are in all. */
const searchLimit = 100;
const emailFormat = z.email();

export function readInvalidationForm(input: unknown): InvalidationFormValues {
  const b = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const text = (key: string) => (typeof b[key] === 'string' ? (b[key] as string).trim().slice(0, 300) : '');
  return Object.fromEntries(fields.map((f) => [f, text(f)])) as unknown as InvalidationFormValues;
}

/** Both spellings an address may have reached the app with (a dual-stack socket maps IPv4 into IPv6). */
function ipForms(ip: string): string[] {
  const parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv4') return [parsed.toString(), `::ffff:${parsed.toString()}`];
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return [v6.toIPv4Address().toString(), `::ffff:${v6.toIPv4Address().toString()}`];
  return [ip, v6.toNormalizedString(), v6.toString()];
}

export type SignatureAdminService = ReturnType<typeof createSignatureAdminService>;

export function createSignatureAdminService(deps: {
  store: Executor;
  petitions: PetitionsService;
  secret: string;
  clock?: () => number;
}) {
  const { store, petitions, secret } = deps;
  const repo = signatureAdminRepository(store);
  const clock = deps.clock ?? Date.now;
  const e = (key: string) => `admin.signatures.errors.${key}`;

  return {
    search: (query: string) => repo.search(query, searchLimit),

    /** The newest signatures a search finds (at most 100), and how many it finds in all. */
    async find(query: string): Promise<{ results: FoundSignature[]; total: number }> {
      const results = await repo.search(query, searchLimit);
      return { results, total: results.length < searchLimit ? results.length : await repo.countFound(query) };
    },

    /**
     * The criteria of a bulk invalidation, the way the UK petitions site has them: a petition, an
     * email address, a domain, an IP address, a postcode, a date range — any together. At least one
     * must be given: an empty filter would match everything.
     */
    async criteria(
      values: InvalidationFormValues,
    ): Promise<{ ok: true; criteria: InvalidationCriteria } | { ok: false; errors: InvalidationErrors }> {
      const errors: InvalidationErrors = {};
      const criteria: InvalidationCriteria = {};
      if (values.petition) {
        const petition = await petitions.findPetition(values.petition, 'en');
        if (!petition) errors.petition = e('petition');
        else criteria.petitionId = petition.id;
      }
      if (values.email) {
        if (!emailFormat.safeParse(values.email).success) errors.email = e('email');
        else criteria.emailCanonical = canonicalEmail(values.email);
      }
      if (values.domain) {
        const domain = values.domain.replace(/^@/, '').toLowerCase();
        if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain)) errors.domain = e('domain');
        else criteria.domain = domain === 'googlemail.com' ? 'gmail.com' : domain;
      }
      if (values.ip) {
        if (!ipaddr.isValid(values.ip)) errors.ip = e('ip');
        else criteria.ipHashes = [...new Set(ipForms(values.ip))].map((form) => hashIp(secret, form));
      }
      if (values.postcode) criteria.postcode = values.postcode;
      const from = values.from ? parseDay(values.from) : undefined;
      const to = values.to ? parseDay(values.to) : undefined;
      if (values.from && from === undefined) errors.from = e('date');
      if (values.to && to === undefined) errors.to = e('date');
      if (from !== undefined && to !== undefined && to < from) errors.to = e('dateOrder');
      criteria.from = from;
      criteria.to = to === undefined ? undefined : to + dayMs;
      if (Object.keys(errors).length > 0) return { ok: false, errors };
      if (fields.every((f) => values[f] === '')) return { ok: false, errors: { criteria: e('criteria') } };
      return { ok: true, criteria };
    },

    /** The criteria as the audit log keeps them: an IP address only as the HMAC signatures store. */
    forAudit(values: InvalidationFormValues): Record<string, string> {
      return { ...values, ip: values.ip && ipaddr.isValid(values.ip) ? hashIp(secret, values.ip) : values.ip && '?' };
    },

    preview: (criteria: InvalidationCriteria) => repo.countMatching(criteria),

    async invalidate(criteria: InvalidationCriteria): Promise<number> {
      const now = clock();
      const result = await store.transaction((tx) => signatureAdminRepository(tx).invalidate(criteria, now));
      petitions.invalidate(); // public pages show the recounted totals at once
      return result.invalidated;
    },
  };
}
