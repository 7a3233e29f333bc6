import type { Executor } from '../../server/db/store';
import type { SmtpSink } from './smtpSink';
import { until } from './until';

export interface CrashWindow {
  /**
   * Call once a killed process is gone, before anything else runs on the database: waits for the
   * relay to finish what it had received, then notes each mail the relay holds whose outbox row is
   * not recorded as sent (the relay accepted it, the process died before recording). Answers how
   * many were caught so this time.
   */
  afterKill(): Promise<number>;
  /** Mails the relay received more often than once plus the times they were caught in the window. */
  unexplained(): Array<{ messageId: string; copies: number; caught: number }>;
  /** Every Message-ID caught in the window so far, with the times it was. */
  caught: ReadonlyMap<string, number>;
}

/**
 * The outbox's documented crash window ("at least once to the relay"): a crash between the relay's
 * acceptance of a mail and the record that it was sent re-sends it, with the same Message-ID, once
 * its lease runs out. That is the only way a mail may arrive twice. The crash tests tell it apart
 * from a real double send by looking, right after each kill, at which mails the relay already has
 * and the database does not record as sent: only those may arrive again, once for each such kill.
 */
export function crashWindow(store: Executor, smtp: SmtpSink): CrashWindow {
  const caught = new Map<string, number>();
  const copiesOf = () => {
    const copies = new Map<string, number>();
    for (const mail of smtp.mails) copies.set(mail.messageId!, (copies.get(mail.messageId!) ?? 0) + 1);
    return copies;
  };
  // The copies the relay had at the last look: a mail is caught by a kill only for a copy that
  // arrived since (an unrecorded copy from an earlier kill is not counted twice).
  let seen = new Map<string, number>();
  return {
    caught,
    async afterKill() {
      // A message whose data had ended when the process died is still parsed (and, here, accepted)
      // by the relay: wait for it to land among the mails.
      await until(() => smtp.mails.length >= smtp.received, 'the relay to settle what it received', 10_000);
      const copies = copiesOf();
      const arrived = [...copies].filter(([id, n]) => n > (seen.get(id) ?? 0)).map(([id]) => id);
      seen = copies;
      let now = 0;
      for (let i = 0; i < arrived.length; i += 500) {
        const ids = arrived.slice(i, i + 500);
        const rows = await store.all(
          store.qb.selectFrom('outbox').select(['message_id', 'state']).where('message_id', 'in', ids),
        );
        if (rows.length !== ids.length) throw new Error('a mail the relay has is not in the outbox');
        for (const row of rows) {
          if (row.state === 'sent') continue;
          caught.set(row.message_id, (caught.get(row.message_id) ?? 0) + 1);
          now++;
        }
      }
      return now;
    },
    unexplained() {
      return [...copiesOf()]
        .map(([messageId, n]) => ({ messageId, copies: n, caught: caught.get(messageId) ?? 0 }))
        .filter((m) => m.copies > 1 + m.caught);
    },
  };
}
