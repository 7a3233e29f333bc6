import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Database } from '../db/database';
import { classifyFailure, describeFailure, UnsendableMail, type MailTransport } from './mailer';
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
 * delivered). Runs inside the transaction that records the outcome, so the two never disagree.
 */
export interface OutboxHook {
  sent?(row: OutboxRow, now: number): void;
  /** `cause` is what was thrown or answered: an UnsendableMail says why the mail could not go. */
  failed?(row: OutboxRow, state: 'failed' | 'dead', error: string, cause: unknown): void;
  /**
   * The address the mail goes to, read when it is sent: an addressee's address corrected since the
   * mail was queued is used, and one removed (null) makes the mail unsendable.
   */
  recipient?(row: OutboxRow): string | null;
  /**
   * Loads, when the mail is sent, what it renders from but the row only refers to (a letter's text
   * by its id), so that big texts are not copied into every outbox row and rewritten at each claim.
   * Read-only, outside any transaction; what it returns is merged into the row's params.
   */
  params?(row: OutboxRow): Record<string, unknown>;
  /** The send's outcome was not recorded (another claim holds the row now): forget what it prepared. */
  dropped?(row: OutboxRow): void;
}

/**
 * How soon after the relay's answer an outcome is recorded. Far shorter than any lease; long enough
 * that a pool of connections answering one by one does not cost a commit (an fsync) per mail.
 */
const recordWithinMs = 20;

type Outcome = { ok: true; response: string } | { ok: false; error: unknown };
type Recorded = 'sent' | 'retried' | 'failed' | 'paused' | 'dropped';

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
  private settling: Settling[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly recordGroup: (group: Settling[], now: number) => Array<Recorded | 'error'>;

  constructor(private readonly deps: OutboxSenderDeps) {
    this.clock = deps.clock ?? Date.now;
    // Each outcome in a savepoint of the group's transaction: a hook that throws undoes its own
    // outcome only, and that row is sent again once its lease runs out.
    const savepoint = deps.db.transaction((item: Settling, now: number) => this.apply(item, now));
    const recordGroup = deps.db.transaction((group: Settling[], now: number) =>
      group.map((item) => {
        try {
          return savepoint(item, now);
        } catch (error) {
          deps.logger.error({ err: error, outboxId: item.row.id }, 'recording a mail outcome failed');
          return 'error' as const;
        }
      }),
    );
    // IMMEDIATE: take the write lock up front, as group commit does (another process may be writing).
    this.recordGroup = (group, now) => recordGroup.immediate(group, now);
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

  async runBatch(): Promise<{ claimed: number; summary: SendSummary }> {
    const { repo, settings } = this.deps;
    const pause = repo.paused();
    if (pause) return { claimed: 0, summary: { sent: 0, retried: 0, failed: 0, paused: pause.reason } };
    const { lease, rows } = repo.claimDue(this.clock(), settings.leaseMs, settings.batchSize, [...this.inFlight]);
    for (const row of rows) this.inFlight.add(row.id);
    const summary: SendSummary = { sent: 0, retried: 0, failed: 0 };
    await Promise.all(
      rows.map(async (row) => {
        try {
          const outcome = await this.sendOne(row);
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

  private async sendOne(row: OutboxRow): Promise<Outcome> {
    try {
      const hook = this.hooks.get(row.kind);
      let current = row;
      if (hook?.recipient) {
        const to = hook.recipient(row);
        if (!to) throw new UnsendableMail('the addressee has no email address any more', 'no_address');
        if (to !== row.recipient) current = { ...current, recipient: to };
      }
      if (hook?.params) current = { ...current, params: { ...current.params, ...hook.params(row) } };
      const mail = await this.deps.render(current);
      const { response } = await this.deps.transport.send(mail);
      return { ok: true, response };
    } catch (error) {
      return { ok: false, error };
    }
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
    let results: Array<Recorded | 'error'>;
    try {
      results = this.recordGroup(group, this.clock());
    } catch (error) {
      // Nothing was recorded: the rows are sent again once their lease runs out.
      this.deps.logger.error({ err: error }, 'recording mail outcomes failed');
      results = group.map(() => 'error');
    }
    group.forEach((item, i) => item.done(results[i]!));
  }

  /** Applies one outcome, only if its claim still holds the row; the kind's hooks run only then. */
  private apply({ row, lease, outcome }: Settling, now: number): Recorded {
    const { repo, settings, logger } = this.deps;
    const hook = this.hooks.get(row.kind);
    const dropped = (what: string): Recorded => {
      logger.warn({ outboxId: row.id, lease, outcome: what }, 'mail outcome dropped: another claim holds the row');
      hook?.dropped?.(row);
      return 'dropped';
    };
    if (outcome.ok) {
      if (!repo.markSent(row.id, lease, outcome.response, now)) return dropped('sent');
      hook?.sent?.(row, now);
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
      hook?.failed?.(row, state, message, error);
      return 'failed';
    }
    const backoff = Math.min(settings.backoffBaseMs * 2 ** (row.attempts - 1), settings.backoffCapMs);
    if (!repo.scheduleRetry(row.id, lease, message, now + backoff)) return dropped(message);
    return 'retried';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.deps.transport.close();
  }
}
