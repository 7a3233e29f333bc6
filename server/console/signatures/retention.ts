import type { AuditLog } from '../../admin/auditLog';
import type { Logger } from '../../logger';
import type { SignatureAdminRepository } from './signatureAdminRepository';

const dayMs = 24 * 60 * 60 * 1000;

export type Retention = ReturnType<typeof createRetention>;

/**
 * Anonymises the signatures of every petition closed more than `daysAfterClose` days ago (SECURITY
 * 16): names, addresses, postcodes and hashed IPs are blanked; states, countries and times stay, so
 * counts do not change. Runs on an unref'd timer in the server, and on demand from the console.
 */
export function createRetention(deps: {
  repo: SignatureAdminRepository;
  audit: AuditLog;
  logger: Logger;
  daysAfterClose: number;
  intervalMs: number;
  onChange?: () => void;
  clock?: () => number;
}) {
  const clock = deps.clock ?? Date.now;
  let timer: NodeJS.Timeout | undefined;

  function run(organiserId: number | null): number {
    const now = clock();
    const anonymised = deps.repo.anonymiseClosedBefore(now - deps.daysAfterClose * dayMs, now);
    if (anonymised > 0 || organiserId !== null) {
      deps.audit.record({
        organiserId,
        action: 'retention.run',
        details: { anonymised, daysAfterClose: deps.daysAfterClose },
      });
    }
    if (anonymised > 0) deps.onChange?.();
    return anonymised;
  }

  return {
    run,
    start(): void {
      const tick = () => {
        try {
          const n = run(null);
          if (n > 0) deps.logger.info({ anonymised: n }, 'retention: signatures anonymised');
        } catch (error) {
          deps.logger.error({ err: error }, 'retention run failed');
        }
      };
      timer = setInterval(tick, deps.intervalMs);
      timer.unref();
      setImmediate(tick);
    },
    stop(): void {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
