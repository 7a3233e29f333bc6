import ipaddr from 'ipaddr.js';
import { hashIp } from '../security/tokens';

/**
 * One signature per petition per canonical email, as on the UK Parliament petitions site:
 * lower-case, `+tag` dropped, dots dropped for Gmail (googlemail.com is gmail.com).
 */
export function canonicalEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 0) return email.trim().toLowerCase();
  let local = email.slice(0, at).trim().toLowerCase();
  let domain = email
    .slice(at + 1)
    .trim()
    .toLowerCase();
  const plus = local.indexOf('+');
  if (plus >= 0) local = local.slice(0, plus);
  if (domain === 'googlemail.com') domain = 'gmail.com';
  if (domain === 'gmail.com') local = local.replace(/\./g, '');
  return `${local}@${domain}`;
}

// An address inside free text (an organiser's search, a mail's parameters): no spaces, quotes or brackets.
const addressInText = /[^\s@<>()[\]{}"',;:]+@[^\s@<>()[\]{}"',;:]+/g;
// A full stop that ends a sentence is not part of the address before it.
const trailingDots = /\.+$/;

/**
 * `text` with every address that is the same person's as `canonical` (by canonicalEmail: any case, a
 * `+tag`, Gmail's dots) replaced by `by`. Whole addresses only: for ann@x.org, joann@x.org and
 * jo.ann@x.org are someone else's and stay.
 */
export function replaceAddress(text: string, canonical: string, by: string): string {
  return text.replace(addressInText, (found) => {
    const address = found.replace(trailingDots, '');
    return canonicalEmail(address) === canonical ? by + found.slice(address.length) : found;
  });
}

/** Whether `text` holds an address that is the same person's as `canonical` (see replaceAddress). */
export function mentionsAddress(text: string, canonical: string): boolean {
  for (const [found] of text.matchAll(addressInText)) {
    if (canonicalEmail(found.replace(trailingDots, '')) === canonical) return true;
  }
  return false;
}

export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Email domains for the allow and block lists, each standing for itself and its subdomains, as an
 * IP range stands for its addresses: blocking mailinator.com blocks x@sub.mailinator.com (anyone
 * with a domain can make subdomains of it), and allowing a university's domain allows its faculties'.
 */
export class EmailDomains {
  private readonly domains: Set<string>;

  constructor(specs: string[]) {
    this.domains = new Set(specs.map((spec) => bareDomain(spec.replace(/^[*@]/, ''))).filter(Boolean));
  }

  /** Whether the address is at one of the domains or below one. */
  has(email: string): boolean {
    if (this.domains.size === 0) return false;
    let domain = bareDomain(emailDomain(email));
    for (;;) {
      if (this.domains.has(domain)) return true;
      const dot = domain.indexOf('.');
      if (dot < 0) return false;
      domain = domain.slice(dot + 1);
    }
  }
}

/**
 * An allow or block list: whole addresses, matched by canonical email (blocking j.doe@gmail.com
 * blocks jdoe+x@googlemail.com), and domains with their subdomains (see EmailDomains).
 */
export class EmailList {
  private readonly domains: EmailDomains;
  private readonly addresses: Set<string>;

  constructor(domains: string[], addresses: string[] = []) {
    this.domains = new EmailDomains(domains);
    this.addresses = new Set(addresses.map(canonicalEmail));
  }

  /** Whether the address is listed itself, or its domain is (or a domain above it). */
  match(email: string): 'address' | 'domain' | undefined {
    if (this.addresses.size > 0 && this.addresses.has(canonicalEmail(email))) return 'address';
    return this.domains.has(email) ? 'domain' : undefined;
  }

  has(email: string): boolean {
    return this.match(email) !== undefined;
  }
}

/** Lower-case, without the dots a domain may be written with at either end ("example.org." is example.org). */
function bareDomain(domain: string): string {
  return domain
    .trim()
    .toLowerCase()
    .replace(/^\.+|\.+$/g, '');
}

/** Address ranges in CIDR form ("203.0.113.0/24", "2001:db8::/32") or single addresses. */
export class IpRanges {
  private readonly ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

  constructor(specs: string[]) {
    this.ranges = specs.map((spec) => {
      if (spec.includes('/')) return ipaddr.parseCIDR(spec);
      const addr = ipaddr.parse(spec);
      return [addr, addr.kind() === 'ipv4' ? 32 : 128];
    });
  }

  has(ip: string | undefined): boolean {
    if (!ip || this.ranges.length === 0 || !ipaddr.isValid(ip)) return false;
    const addr = ipaddr.process(ip); // ::ffff:1.2.3.4 is 1.2.3.4
    return this.ranges.some(([range, bits]) => addr.kind() === range.kind() && addr.match(range, bits));
  }
}

/**
 * Whose rate-limit bucket an address falls in: an IPv4 address is its own (written as IPv4 when it
 * came as ::ffff:a.b.c.d), an IPv6 address shares its /64's, because a subscriber is given a whole
 * /64 and may use any of its 2^64 addresses.
 */
export function rateBucket(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const addr = ipaddr.process(ip);
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}

/** The rate-limit key of a request from `ip` about `scope` (a petition, a demand): its bucket, hashed. */
export function rateKey(secret: string, ip: string | undefined, scope: number): string {
  return `${ip ? hashIp(secret, rateBucket(ip)) : null}:${scope}`;
}

/**
 * A sliding window per key (see rateKey: an IPv4 address or an IPv6 /64, × petition), in memory: the
 * limits are soft, and the rows keep the hashed IP should a second look be needed. Bounded: the oldest
 * keys go first when it is full.
 */
export class RateWindow {
  private readonly hits = new Map<string, number[]>();
  private readonly longest: number;

  constructor(
    private readonly limits: Array<{ max: number; seconds: number }>,
    private readonly maxKeys = 100_000,
  ) {
    this.longest = Math.max(0, ...limits.map((l) => l.seconds)) * 1000;
  }

  /** Records a hit and says whether it goes over any limit. */
  hit(key: string, now: number): boolean {
    let times = this.hits.get(key);
    if (times) {
      this.hits.delete(key); // re-insert below, so Map order stays least-recently-used first
      const from = now - this.longest;
      let drop = 0;
      while (drop < times.length && times[drop]! <= from) drop++;
      if (drop) times = times.slice(drop);
    } else {
      times = [];
      if (this.hits.size >= this.maxKeys) this.hits.delete(this.hits.keys().next().value!);
    }
    times.push(now);
    this.hits.set(key, times);
    return this.limits.some(({ max, seconds }) => {
      const from = now - seconds * 1000;
      let n = 0;
      for (let i = times.length - 1; i >= 0 && times[i]! > from; i--) n++;
      return n > max;
    });
  }
}
