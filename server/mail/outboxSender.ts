import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Executor } from '../db/store';
import { describeFailure, UnsendableMail, type MailTransport, type OutgoingMail } from './mailer';
import type { MailRenderer } from './mailRenderer';
import { recordOutcomes, type Outcome, type Recorded, type Settling } from './outboxOutcomes';
import { outboxRepository, type OutboxRow } from './outboxRepository';

export interface SendSummary {
  sent: number;
  retried: number;
  failed: number;
  /** Set when the relay refused our credentials: nothing more is sent until delivery is resumed. */
  paused?: string;
}

export interface OutboxSenderDeps {
  /** The store the outbox lives in: claims, outcomes and pauses each run in a transaction of its own. */
  store: Executor;
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
 * delivered). `sent` and `failed` write on `tx`, the transaction that records the outcome (a
 * savepoint of it), so the two never disagree; nothing in them awaits anything but the database.
 */
export interface OutboxHook {
  sent?(tx: Executor, row: OutboxRow, now: number): Promise<void>;
  /** `cause` is what was thrown or answered: an UnsendableMail says why the mail could not go. */
  failed?(tx: Executor, row: OutboxRow, state: 'failed' | 'dead', error: string, cause: unknown): Promise<void>;
  /**
   * The address the mail goes to, read when it is sent: an addressee's address corrected since the
   * mail was queued is used, and one removed (null) makes the mail unsendable.
   */
  recipient?(row: OutboxRow): Promise<string | null>;
  /**
   * Loads, when the mail is sent, what it renders from but the row only refers to (a letter's text
   * by its id), so that big texts are not copied into every outbox row and rewritten at each claim.
   * Read-only, outside any transaction; what it returns is merged into the row's params.
   */
  params?(row: OutboxRow): Promise<Record<string, unknown>>;
  /**
   * The send's outcome was not recorded (another claim holds the row now), or the mail was given
   * back unsent (the sender is stopping): forget what it prepared.
   */
  dropped?(row: OutboxRow): void;
}

/**
 * How soon after the relay's answer an outcome is recorded. Far shorter than any lease; long enough
 * that a pool of connections answering one by one does not cost a commit (an fsync) per mail.
 */
const recordWithinMs = 20;

/** A claimed, rendered mail waiting for the transport to take it. */
interface Waiting {
  row: OutboxRow;
  lease: number;
  go: (send: boolean) => void;
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
  private readonly repo: ReturnType<typeof outboxRepository>;
  private starting: Promise<void> | undefined;

  constructor(private readonly deps: OutboxSenderDeps) {
    this.clock = deps.clock ?? Date.now;
    this.repo = outboxRepository(deps.store);
  }

  /** Why delivery is paused, if it is. */
  async paused(): Promise<{ reason: string; pausedAt: number } | undefined> {
    return this.repo.paused();
  }

  /** Lifts a pause (the relay's credentials were fixed) and sends what waited. */
  async resume(): Promise<boolean> {
    const resumed = await this.repo.resume();
    if (resumed) this.wake();
    return resumed;
  }

  /** Registers what to do when mail of this kind is sent or given up on. */
  on(kind: string, hook: OutboxHook): void {
    this.hooks.set(kind, hook);
  }

  /** Polls for due rows (retries, expired leases) and sends at once whenever woken. */
  start(): void {
    this.starting = (async () => {
      // A pause from a relay configuration that has since changed is over: try the new one.
      const pause = await this.repo.paused();
      if (pause && pause.relay !== (this.deps.relayId ?? null)) await this.repo.resume();
      else if (pause) this.deps.logger.error({ reason: pause.reason }, 'mail delivery is paused');
    })()
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'reading the delivery pause failed'))
      .finally(() => {
        if (this.stopped) return;
        this.timer = setInterval(() => this.wake(), this.deps.settings.pollMs);
        this.timer.unref();
        this.wake();
      });
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
    const { repo } = this;
    const { settings } = this.deps;
    if (this.stopped) return { claimed: 0, summary: { sent: 0, retried: 0, failed: 0 } };
    const pause = await repo.paused();
    if (pause) return { claimed: 0, summary: { sent: 0, retried: 0, failed: 0, paused: pause.reason } };
    // What this sender still holds is left out of its claim (a row whose lease ran out in its hands).
    const exclude = [...this.inFlight];
    const { lease, rows } = await repo.claimDue(this.clock(), settings.leaseMs, settings.batchSize, exclude);
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
  private async releaseWaiting(): Promise<number> {
    const waiting = this.waiting.splice(0);
    if (waiting.length === 0) return 0;
    const byLease = new Map<number, number[]>();
    for (const { row, lease } of waiting) byLease.set(lease, [...(byLease.get(lease) ?? []), row.id]);
    let released = 0;
    try {
      released = await this.deps.store.transaction(async (tx) => {
        let n = 0;
        for (const [lease, ids] of byLease) n += await outboxRepository(tx).release(lease, ids);
        return n;
      });
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
      if (this.settling.length >= this.deps.settings.batchSize) this.flush();
      else this.flushTimer ??= setTimeout(() => this.flush(), recordWithinMs);
    });
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const group = this.settling;
    this.settling = [];
    // The batches that sent these mails wait for their outcomes, and stop() waits for the batches.
    void recordOutcomes(this.deps, this.hooks, group, this.clock()).then(
      (results) => group.forEach((item, i) => item.done(results[i]!)),
      (error: unknown) => {
        // Nothing was recorded: the rows are sent again once their lease runs out.
        this.deps.logger.error({ err: error }, 'recording mail outcomes failed');
        for (const item of group) item.done('error');
      },
    );
  }

  /**
   * Claims nothing more, gives back what was claimed and not yet handed to the transport, waits for
   * the mails in hand and records their outcomes, then closes the transport.
   */
  async stop(): Promise<void> {
    const { logger } = this.deps;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // What waits for the transport is taken back at once (before another send can take it).
    const releasing = this.releaseWaiting();
    const inHand = this.sendsInHand;
    await this.starting;
    const released = await releasing;
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
