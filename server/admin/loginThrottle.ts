import ipaddr from 'ipaddr.js';

/**
 * The bucket an address counts in: an IPv4 address on its own, an IPv6 address with its /64 (one
 * subscriber is given a whole /64, and could otherwise try from a new address each time).
 */
export function clientKey(ip: string | undefined): string {
  if (!ip || !ipaddr.isValid(ip)) return ip ?? '';
  const parsed = ipaddr.process(ip); // ::ffff:1.2.3.4 is 1.2.3.4
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`;
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;

/**
 * Failed logins per client address in a fixed window: past `max` the login form refuses at once,
 * checking no password and writing nothing, until the window ends. The per-account lock-out stops
 * guessing one account's password; this stops one client from filling the audit log with failures
 * (or trying many accounts). Kept in memory: a restart forgets it, which costs an attacker nothing
 * they could not get by waiting, and writes nothing anyone could fill.
 */
export function createLoginThrottle(
  settings: { max: number; windowMs: number; maxClients?: number },
  clock: () => number = Date.now,
) {
  const maxClients = settings.maxClients ?? 10_000;
  const windows = new Map<string, { since: number; failures: number }>();

  function current(key: string, now: number) {
    const w = windows.get(key);
    if (w && now - w.since >= settings.windowMs) {
      windows.delete(key);
      return undefined;
    }
    return w;
  }

  /** Bounded memory, whatever the number of addresses: drop ended windows, then the oldest. */
  function makeRoom(now: number): void {
    if (windows.size < maxClients) return;
    for (const [key, w] of windows) if (now - w.since >= settings.windowMs) windows.delete(key);
    for (const key of windows.keys()) {
      if (windows.size < maxClients) break;
      windows.delete(key);
    }
  }

  return {
    /**
     * Before a password is checked: 0, counting this attempt as a failure until `succeeded` says
     * otherwise (so that a burst of simultaneous attempts cannot all pass), or how many milliseconds
     * until this address may try again.
     */
    begin(ip: string | undefined): number {
      const now = clock();
      const key = clientKey(ip);
      const w = current(key, now);
      if (w && w.failures >= settings.max) return w.since + settings.windowMs - now;
      if (w) w.failures++;
      else {
        makeRoom(now);
        windows.set(key, { since: now, failures: 1 });
      }
      return 0;
    },
    /** The attempt `begin` counted was a successful login after all. */
    succeeded(ip: string | undefined): void {
      const w = current(clientKey(ip), clock());
      if (w && w.failures > 0) w.failures--;
    },
  };
}
