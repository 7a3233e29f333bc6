import type { AuditLog } from '../../admin/auditLog';
import type { Executor } from '../../db/store';
import type { Logger } from '../../logger';
import { outboxErasureRepository } from '../../mail/outboxErasureRepository';
import { signatureAdminRepository } from './signatureAdminRepository';
import { dayMs } from '../../time/dates';

export type Retention = ReturnType<typeof createRetention>;

export interface StepResult {
  changed: number;
  mailDeleted: number;
  details: Record<string, number>;
}

/**
 * Another table's retention (letters add theirs), run in the same transaction `tx` as the
 * signatures'. `details` is what the audit entry of the run records of it: its counts and its
 * setting. It may answer at once or with a promise, so a feature can move to the store without a
 * change here.
 */
export interface RetentionStep {
  run(now: number, tx: Executor): StepResult | Promise<StepResult>;
}

/**
 * Anonymises the signatures of every petition closed more than `daysAfterClose` days ago (SECURITY
 * 16): names, addresses, postcodes and hashed IPs are blanked; states, countries and times stay, so
 * counts do not change. The mail about those signatures goes with them, and any mail to a person
 * (or written for one) is deleted `mailDays` after it was sent or given up on; a digest's row stays
 * with its batch, as the record of a delivery (it names no one). Other tables add their step (letters
 * anonymise theirs LETTER_RETENTION_DAYS after a final state), in the same transaction. Runs on an
 * unref'd timer in the server, and on demand from the console.
 */
export function createRetention(deps: {
  store: Executor;
  audit: AuditLog;
  logger: Logger;
  daysAfterClose: number;
  mailDays: number;
  intervalMs: number;
  onChange?: () => void;
  clock?: () => number;
}) {
  const clock = deps.clock ?? Date.now;
  const steps: RetentionStep[] = [];
  let timer: NodeJS.Timeout | undefined;

  /** Returns how many signatures were anonymised. */
  async function run(organiserId: number | null): Promise<number> {
    const now = clock();
    const { anonymised, others, mailDeleted, details } = await deps.store.transaction(async (tx) => {
      const ids = await signatureAdminRepository(tx).anonymiseClosedBefore(now - deps.daysAfterClose * dayMs, now);
      let mail = await outboxErasureRepository(tx).forgetSignatureMail(ids);
      let changed = 0;
      const stepDetails: Record<string, number> = {};
      for (const step of steps) {
        const result = await step.run(now, tx);
        changed += result.changed;
        mail += result.mailDeleted;
        Object.assign(stepDetails, result.details);
      }
      return {
        anonymised: ids.length,
        others: changed,
        mailDeleted: mail + (await outboxErasureRepository(tx).pruneFinished(now - deps.mailDays * dayMs)),
        details: stepDetails,
      };
    });
    if (anonymised > 0 || others > 0 || mailDeleted > 0 || organiserId !== null) {
      await deps.audit.record({
        organiserId,
        action: 'retention.run',
        details: {
          anonymised,
          daysAfterClose: deps.daysAfterClose,
          ...details,
          mailDeleted,
          mailDays: deps.mailDays,
        },
      });
    }
    if (anonymised > 0) deps.onChange?.();
    return anonymised;
  }

  return {
    run,
    /** Extension point: letters add the anonymising of theirs. */
    addStep(step: RetentionStep): void {
      steps.push(step);
    },
    start(): void {
      const tick = async () => {
        try {
          const n = await run(null);
          if (n > 0) deps.logger.info({ anonymised: n }, 'retention: signatures anonymised');
        } catch (error) {
          deps.logger.error({ err: error }, 'retention run failed');
        }
      };
      timer = setInterval(() => void tick(), deps.intervalMs);
      timer.unref();
      setImmediate(() => void tick());
    },
    stop(): void {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
