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
}

type Outcome = { row: OutboxRow; ok: true; response: string } | { row: OutboxRow; ok: false; error: unknown };

/**
 * Drains the outbox: claims due rows with a lease, sends them through the pooled transport outside
 * any transaction, then records every outcome of the batch in one transaction. Temporary failures
 * back off exponentially up to a cap of attempts, then the row is dead; permanent ones fail at once.
 */
export class OutboxSender {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SendSummary> | null = null;
  private again = false;
  private stopped = false;
  private readonly clock: () => number;
  private readonly hooks = new Map<string, OutboxHook>();

  constructor(private readonly deps: OutboxSenderDeps) {
    this.clock = deps.clock ?? Date.now;
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
   * mail and is recorded. Each batch is still recorded in its own transaction.
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
    const rows = repo.claimDue(this.clock(), settings.leaseMs, settings.batchSize);
    const outcomes = await Promise.all(rows.map((row) => this.sendOne(row)));
    const summary: SendSummary = { sent: 0, retried: 0, failed: 0 };
    const now = this.clock();
    this.deps.db.transaction(() => {
      for (const outcome of outcomes) {
        if (outcome.ok) {
          repo.markSent(outcome.row.id, outcome.response, now);
          this.hooks.get(outcome.row.kind)?.sent?.(outcome.row, now);
          summary.sent++;
        } else {
          const result = this.recordFailure(outcome.row, outcome.error, now);
          if (result === 'paused') summary.paused = describeFailure(outcome.error);
          else summary[result]++;
        }
      }
    })();
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
      const mail = this.deps.render(current);
      const { response } = await this.deps.transport.send(mail);
      return { row, ok: true, response };
    } catch (error) {
      return { row, ok: false, error };
    }
  }

  private recordFailure(row: OutboxRow, error: unknown, now: number): 'retried' | 'failed' | 'paused' {
    const { repo, settings, logger } = this.deps;
    const message = describeFailure(error);
    const kind = classifyFailure(error);
    logger.warn({ outboxId: row.id, kind, attempt: row.attempts, error: message }, 'mail not accepted');
    if (kind === 'auth') {
      repo.requeue(row.id, message);
      repo.pause(message, now, this.deps.relayId ?? null);
      logger.error({ error: message }, 'the relay refused our credentials: mail delivery is paused');
      return 'paused';
    }
    if (kind === 'permanent' || row.attempts >= settings.maxAttempts) {
      const state = kind === 'permanent' ? 'failed' : 'dead';
      repo.markFailed(row.id, state, message);
      this.hooks.get(row.kind)?.failed?.(row, state, message, error);
      return 'failed';
    }
    const backoff = Math.min(settings.backoffBaseMs * 2 ** (row.attempts - 1), settings.backoffCapMs);
    repo.scheduleRetry(row.id, message, now + backoff);
    return 'retried';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.deps.transport.close();
  }
}
