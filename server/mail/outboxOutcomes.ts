import type { Executor } from '../db/store';
import { classifyFailure, describeFailure } from './mailer';
import { redactAddresses } from '../logger';
import { outboxRepository, type OutboxRow } from './outboxRepository';
import type { OutboxHook, OutboxSenderDeps } from './outboxSender';

/** What the relay answered to one send (or what stopped it being sent). */
export type Outcome = { ok: true; response: string } | { ok: false; error: unknown };
export type Recorded = 'sent' | 'retried' | 'failed' | 'paused' | 'dropped';

/** An outcome waiting to be recorded, and the send that waits for it. */
export interface Settling {
  row: OutboxRow;
  lease: number;
  outcome: Outcome;
  done: (result: Recorded | 'error') => void;
}

type Deps = Pick<OutboxSenderDeps, 'store' | 'settings' | 'logger' | 'relayId'>;

/**
 * Records a group of outcomes in one transaction (one commit, one fsync), each in a savepoint of it:
 * a hook that throws undoes its own outcome only, and that row is sent again once its lease runs out.
 */
export function recordOutcomes(
  deps: Deps,
  hooks: ReadonlyMap<string, OutboxHook>,
  group: Settling[],
  now: number,
): Promise<Array<Recorded | 'error'>> {
  return deps.store.transaction(async (tx) => {
    const results: Array<Recorded | 'error'> = [];
    for (const item of group) {
      try {
        results.push(await tx.transaction((savepoint) => apply(deps, hooks.get(item.row.kind), savepoint, item, now)));
      } catch (error) {
        deps.logger.error({ err: error, outboxId: item.row.id }, 'recording a mail outcome failed');
        results.push('error');
      }
    }
    return results;
  });
}

/** Applies one outcome, only if its claim still holds the row; the kind's hooks run only then. */
async function apply(
  deps: Deps,
  hook: OutboxHook | undefined,
  tx: Executor,
  { row, lease, outcome }: Settling,
  now: number,
): Promise<Recorded> {
  const { settings, logger } = deps;
  const repo = outboxRepository(tx);
  const dropped = (what: string): Recorded => {
    logger.warn({ outboxId: row.id, lease, outcome: what }, 'mail outcome dropped: another claim holds the row');
    hook?.dropped?.(row);
    return 'dropped';
  };
  if (outcome.ok) {
    if (!(await repo.markSent(row.id, lease, outcome.response, now))) return dropped('sent');
    await hook?.sent?.(tx, row, now);
    return 'sent';
  }
  const { error } = outcome;
  const message = describeFailure(error);
  const kind = classifyFailure(error);
  logger.warn({ outboxId: row.id, kind, attempt: row.attempts, error: redactAddresses(message) }, 'mail not accepted');
  if (kind === 'auth') {
    if (!(await repo.requeue(row.id, lease, message))) return dropped(message);
    await repo.pause(message, now, deps.relayId ?? null);
    logger.error({ error: redactAddresses(message) }, 'the relay refused our credentials: mail delivery is paused');
    return 'paused';
  }
  if (kind === 'permanent' || row.attempts >= settings.maxAttempts) {
    const state = kind === 'permanent' ? 'failed' : 'dead';
    if (!(await repo.markFailed(row.id, lease, state, message))) return dropped(message);
    await hook?.failed?.(tx, row, state, message, error);
    return 'failed';
  }
  const backoff = Math.min(settings.backoffBaseMs * 2 ** (row.attempts - 1), settings.backoffCapMs);
  if (!(await repo.scheduleRetry(row.id, lease, message, now + backoff))) return dropped(message);
  return 'retried';
}
