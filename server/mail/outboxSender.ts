import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Database } from '../db/database';
import type { Executor, Store } from '../db/store';
import { classifyFailure, describeFailure, UnsendableMail, type MailTransport, type OutgoingMail } from './mailer';
import type { MailRenderer } from './mailRenderer';
import type { OutboxRepository, OutboxRow } from './outboxRepository';

export interface SendSummary {
  sent: number;
  retried: number;
  failed: number;
  /** Set when the relay refused our credentials: nothing more is sent until delivery is resumed. */
  paused?: string;
}

export interface OutboxSenderDeps {
  db: Database;
  /** The store on the same connection: outcomes are recorded in its transactions, as hooks write on them. */
  store: Store;
  repo: OutboxRepository;
  transport: MailTransport;
  render: MailRenderer;
  settings: Config['outbox'];
  logger: Logger;
  /** Identifies the relay's configuration (a hash, never the URL: it holds the password). */
  relayId?: string;
  clock?: () => number;
}

/**
 * What a feature does when one of its mails is settled (a letter becomes `sent`, a batch is marked
 * delivered). `sent` and `failed` write on `tx`, the transaction that records the outcome, so the two
 * never disagree. `recipient` reads the address when the mail is sent (corrected since, it is used;
 * removed, null, the mail is unsendable); `params` loads what the mail renders from but the row only
 * refers to (a letter's text by its id), read-only, merged into the row's params; `dropped` forgets
 * what was prepared when the outcome was not recorded (another claim holds the row) or the mail was
 * given back unsent. `cause` is what was thrown or answered: an UnsendableMail says why.
 */
export interface OutboxHook {
  sent?(tx: Executor, row: OutboxRow, now: number): Promise<void>;
  failed?(tx: Executor, row: OutboxRow, state: 'failed' | 'dead', error: string, cause: unknown): Promise<void>;
  recipient?(row: OutboxRow): Promise<string | null>;
  params?(row: OutboxRow): Promise<Record<string, unknown>>;
  dropped?(row: OutboxRow): void;
}

/**
 * The hooks as they were, synchronous on the SQLite connection, for a feature not yet on the store
 * (delivery's digests): a shim, until that feature moves.
 */
export interface OutboxHookNow {
  sent?(row: OutboxRow, now: number): void;
  failed?(row: OutboxRow, state: 'failed' | 'dead', error: string, cause: unknown): void;
  recipient?(row: OutboxRow): string | null;
  params?(row: OutboxRow): Record<string, unknown>;
  dropped?(row: OutboxRow): void;
}

/** A synchronous hook behind the new contract: on SQLite its writes run inside the same transaction. */
export function hookFromNow(hook: OutboxHookNow): OutboxHook {
  return {
    sent: hook.sent && (async (_tx, row, now) => hook.sent!(row, now)),
    failed: hook.failed && (async (_tx, row, state, error, cause) => hook.failed!(row, state, error, cause)),
    recipient: hook.recipient && (async (row) => hook.recipient!(row)),
    params: hook.params && (async (row) => hook.params!(row)),
    dropped: hook.dropped && ((row) => hook.dropped!(row)),
  };
}

/**
 * How soon after the relay's answer an outcome is recorded. Far shorter than any lease; long enough
 * that a pool of connections answering one by one does not cost a commit (an fsync) per mail.
 */
const recordWithinMs = 20;

type Outcome = { ok: true; response: string } | { ok: false; error: unknown };
type Recorded = 'sent' | 'retried' | 'failed' | 'paused' | 'dropped';

/** A claimed, rendered mail waiting for the transport to take it. */
interface Waiting {
  row: OutboxRow;
  lease: number;
  go: (send: boolean) => void;
}

interface Settling {
  row: OutboxRow;
  lease: number;
  outcome: Outcome;
  done: (result: Recorded | 'error') => void;
}

/**
 * Drains the outbox: claims due rows with a lease, sends them through the pooled transport outside
 * any transaction, and records each outcome as soon as the relay answers, for the claim that still
 * holds the row (what arrives together shares a transaction). Temporary failures back off
 * exponentially up to a cap of attempts, then the row is dead; permanent ones fail at once.
 * Mails are handed to the transport only as fast as it sends them (see MailTransport.concurrency), so
 * that a sender told to stop knows which mails are in hand (it waits for them) and which it can give
 * back unsent.
 */
export class OutboxSender {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SendSummary> | null = null;
  private again = false;
  private stopped = false;
  private readonly clock: () => number;
  private readonly hooks = new Map<string, OutboxHook>();
  /** Rows this sender has claimed and not yet recorded: it never claims them again meanwhile. */
  private readonly inFlight = new Set<number>();
  /** Mails handed to the transport and not yet answered: never more than it takes at once. */
  private sendsInHand = 0;
  private waiting: Waiting[] = [];
  /** Every batch under way, whoever started it (a pass, the deliver CLI): stop() waits for them. */
  private readonly batches = new Set<Promise<unknown>>();
  private settling: Settling[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: OutboxSenderDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /**
   * Each outcome in a savepoint of the group's transaction: a hook that throws undoes its own
   * outcome only, and that row is sent again once its lease runs out.
   */
  private recordGroup(group: Settling[], now: number): Promise<Array<Recorded | 'error'>> {
    const { store, logger } = this.deps;
    return store.transaction(async (tx) => {
      const results: Array<Recorded | 'error'> = [];
      for (const item of group) {
        try {
          results.push(await tx.transaction((savepoint) => this.apply(savepoint, item, now)));
        } catch (error) {
          logger.error({ err: error, outboxId: item.row.id }, 'recording a mail outcome failed');
          results.push('error');
        }
      }
      return results;
    });
  }

  /** Why delivery is paused, if it is. */
  paused(): { reason: string; pausedAt: number } | undefined {
    return this.deps.repo.paused();
  }

  /** Lifts a pause (the relay's credentials were fixed) and sends what waited. */
  resume(): boolean {
    const resumed = this.deps.repo.resume();
    if (resumed) this.wake();
    return resumed;
  }

  /** Registers what to do when mail of this kind is sent or given up on. */
  on(kind: string, hook: OutboxHook): void {
    this.hooks.set(kind, hook);
  }

  /** Polls for due rows (retries, expired leases) and sends at once whenever woken. */
  start(): void {
    // A pause from a relay configuration that has since changed is over: try the new one.
    const pause = this.deps.repo.paused();
    if (pause && pause.relay !== (this.deps.relayId ?? null)) this.deps.repo.resume();
    else if (pause) this.deps.logger.error({ reason: pause.reason }, 'mail delivery is paused');
    this.timer = setInterval(() => this.wake(), this.deps.settings.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Ask for a pass soon: called after a transaction queued mail. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error }, 'outbox pass failed');
        return { sent: 0, retried: 0, failed: 0 };
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Resolves once no pass is running or asked for (what was due has been sent and recorded). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Sends until nothing is due. Two batches are in flight: the next is claimed while the previous is
   * still being sent, so the connection pool is not left idle while a batch waits for its slowest
   * mail. The next claim leaves out what this sender is still sending, however long the relay takes.
   */
  async drain(): Promise<SendSummary> {
    const total: SendSummary = { sent: 0, retried: 0, failed: 0 };
    const add = (summary: SendSummary) => {
      total.sent += summary.sent;
      total.retried += summary.retried;
      total.failed += summary.failed;
      if (summary.paused) total.paused = summary.paused;
    };
    const inFlight = [this.runBatch()];
    for (;;) {
      if (!this.stopped && !total.paused) inFlight.push(this.runBatch());
      const { claimed, summary } = await inFlight.shift()!;
      add(summary);
      if (claimed === 0 || this.stopped || total.paused) {
        for (const batch of inFlight) add((await batch).summary);
        return total;
      }
    }
  }

  runBatch(): Promise<{ claimed: number; summary: SendSummary }> {
    const batch = this.sendBatch();
    this.batches.add(batch);
    void batch.finally(() => this.batches.delete(batch)).catch(() => undefined);
    return batch;
  }

  private async sendBatch(): Promise<{ claimed: number; summary: SendSummary }> {
    const { repo, settings } = this.deps;
    if (this.stopped) return { claimed: 0, summary: { sent: 0, retried: 0, failed: 0 } };
    const pause = repo.paused();
    if (pause) return { claimed: 0, summary: { sent: 0, retried: 0, failed: 0, paused: pause.reason } };
    const { lease, rows } = repo.claimDue(this.clock(), settings.leaseMs, settings.batchSize, [...this.inFlight]);
    for (const row of rows) this.inFlight.add(row.id);
    const summary: SendSummary = { sent: 0, retried: 0, failed: 0 };
    await Promise.all(
      rows.map(async (row) => {
        try {
          const outcome = await this.sendOne(row, lease);
          if (!outcome) return; // given back unsent: the sender is stopping
          const result = await this.record(row, lease, outcome);
          if (result === 'paused' && !outcome.ok) summary.paused = describeFailure(outcome.error);
          else if (result === 'sent' || result === 'retried' || result === 'failed') summary[result]++;
        } finally {
          this.inFlight.delete(row.id);
        }
      }),
    );
    return { claimed: rows.length, summary };
  }

  /** Renders a mail at once, and sends it once the transport takes it: undefined if given back unsent. */
  private async sendOne(row: OutboxRow, lease: number): Promise<Outcome | undefined> {
    let mail: OutgoingMail;
    try {
      mail = await this.render(row);
    } catch (error) {
      return { ok: false, error };
    }
    if (!(await this.connection(row, lease))) return undefined;
    try {
      const { response } = await this.deps.transport.send(mail);
      return { ok: true, response };
    } catch (error) {
      return { ok: false, error };
    } finally {
      this.sendsInHand--;
      const next = this.waiting.shift();
      if (next) {
        this.sendsInHand++;
        next.go(true);
      }
    }
  }

  private async render(row: OutboxRow): Promise<OutgoingMail> {
    const hook = this.hooks.get(row.kind);
    let current = row;
    if (hook?.recipient) {
      const to = await hook.recipient(row);
      if (!to) throw new UnsendableMail('the addressee has no email address any more', 'no_address');
      if (to !== row.recipient) current = { ...current, recipient: to };
    }
    if (hook?.params) current = { ...current, params: { ...current.params, ...(await hook.params(row)) } };
    return await this.deps.render(current);
  }

  /** Resolves true when the mail may be handed to the transport, false when it was given back. */
  private connection(row: OutboxRow, lease: number): boolean | Promise<boolean> {
    if (this.sendsInHand < (this.deps.transport.concurrency ?? Infinity)) {
      this.sendsInHand++;
      return true;
    }
    return new Promise((go) => this.waiting.push({ row, lease, go }));
  }

  /**
   * Gives back the mails this sender claimed and has not handed to the relay: queued again, due at
   * once, for any sender (this one after a restart, another worker now). Only rows each claim still
   * holds are touched. Returns how many went back.
   */
  private releaseWaiting(): number {
    const waiting = this.waiting.splice(0);
    if (waiting.length === 0) return 0;
    const byLease = new Map<number, number[]>();
    for (const { row, lease } of waiting) byLease.set(lease, [...(byLease.get(lease) ?? []), row.id]);
    let released = 0;
    try {
      this.deps.db.transaction(() => {
        for (const [lease, ids] of byLease) released += this.deps.repo.release(lease, ids);
      })();
    } catch (error) {
      this.deps.logger.error({ err: error }, 'giving back claimed mail failed: it is sent once its lease runs out');
    }
    for (const { row, go } of waiting) {
      this.hooks.get(row.kind)?.dropped?.(row);
      go(false);
    }
    return released;
  }

  /**
   * Records an outcome soon after it is known: what arrives within `recordWithinMs` (or a batch's
   * worth) shares one transaction, one fsync, rather than one each.
   */
  private record(row: OutboxRow, lease: number, outcome: Outcome): Promise<Recorded | 'error'> {
    return new Promise((done) => {
      this.settling.push({ row, lease, outcome, done });
      if (this.settling.length >= this.deps.settings.batchSize) void this.flush();
      else this.flushTimer ??= setTimeout(() => void this.flush(), recordWithinMs);
    });
  }

  private async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const group = this.settling;
    this.settling = [];
    let results: Array<Recorded | 'error'>;
    try {
      results = await this.recordGroup(group, this.clock());
    } catch (error) {
      // Nothing was recorded: the rows are sent again once their lease runs out.
      this.deps.logger.error({ err: error }, 'recording mail outcomes failed');
      results = group.map(() => 'error');
    }
    group.forEach((item, i) => item.done(results[i]!));
  }

  /** Applies one outcome, only if its claim still holds the row; the kind's hooks run only then. */
  private async apply(tx: Executor, { row, lease, outcome }: Settling, now: number): Promise<Recorded> {
    const { repo, settings, logger } = this.deps;
    const hook = this.hooks.get(row.kind);
    const dropped = (what: string): Recorded => {
      logger.warn({ outboxId: row.id, lease, outcome: what }, 'mail outcome dropped: another claim holds the row');
      hook?.dropped?.(row);
      return 'dropped';
    };
    if (outcome.ok) {
      if (!repo.markSent(row.id, lease, outcome.response, now)) return dropped('sent');
      await hook?.sent?.(tx, row, now);
      return 'sent';
    }
    const { error } = outcome;
    const message = describeFailure(error);
    const kind = classifyFailure(error);
    logger.warn({ outboxId: row.id, kind, attempt: row.attempts, error: message }, 'mail not accepted');
    if (kind === 'auth') {
      if (!repo.requeue(row.id, lease, message)) return dropped(message);
      repo.pause(message, now, this.deps.relayId ?? null);
      logger.error({ error: message }, 'the relay refused our credentials: mail delivery is paused');
      return 'paused';
    }
    if (kind === 'permanent' || row.attempts >= settings.maxAttempts) {
      const state = kind === 'permanent' ? 'failed' : 'dead';
      if (!repo.markFailed(row.id, lease, state, message)) return dropped(message);
      await hook?.failed?.(tx, row, state, message, error);
      return 'failed';
    }
    const backoff = Math.min(settings.backoffBaseMs * 2 ** (row.attempts - 1), settings.backoffCapMs);
    if (!repo.scheduleRetry(row.id, lease, message, now + backoff)) return dropped(message);
    return 'retried';
  }

  /**
   * Claims nothing more, gives back what was claimed and not yet handed to the transport, waits for
   * the mails in hand and records their outcomes, then closes the transport.
   */
  async stop(): Promise<void> {
    const { logger } = this.deps;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const released = this.releaseWaiting();
    const inHand = this.sendsInHand;
    if (released > 0 || inHand > 0) {
      logger.info(
        { released, inHand },
        'outbox sender stopping: claimed mail not yet sent is back in the queue; waiting for the relay to answer the mail in hand',
      );
    }
    await this.running;
    while (this.batches.size > 0) await Promise.allSettled([...this.batches]);
    if (inHand > 0) logger.info({ inHand }, 'outbox sender stopped: the mail in hand is recorded');
    this.deps.transport.close();
  }
}
