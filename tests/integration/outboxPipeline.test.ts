import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import type { MailTransport } from '../../server/mail/mailer';
import { createServices, type Services } from '../../server/services';
import { queueMails } from '../helpers/factories';
import { createTestPostgresDatabase, postgresUrl } from '../helpers/testStore';

describe('the outbox sender keeps two batches in flight', () => {
  let dir: string;
  let services: Services;
  let active = 0;
  let mostAtOnce = 0;
  const delivered: string[] = [];

  let pgDatabase: { url: string; drop(): Promise<void> } | undefined;
  let closed = false;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-outbox-'));
    // Under `npm run test:pg`, on a PostgreSQL database of its own.
    pgDatabase = postgresUrl ? await createTestPostgresDatabase() : undefined;
    closed = false;
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_PATH: path.join(dir, 'test.db'),
      ...(pgDatabase ? { DATABASE_URL: pgDatabase.url } : {}),
      DATA_DIR: dir,
      SECRET: 'a-test-secret-that-is-long-enough-000000',
    });
    // A relay that holds on to mail until it has every mail the sender claimed (checked once the
    // sender has had its turn to claim more), and counts how many it holds at once: only a second
    // batch claimed and sent before the first is answered gets past 50.
    let open: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const claimed = async () =>
      (await services.store.first(sql<{ n: number }>`SELECT count(*) AS n FROM outbox WHERE state = 'sending'`))!.n;
    // The sender's turn to claim more: on SQLite its claim is done within the tick; on PostgreSQL it
    // is a round trip to the server, which a count started at once could overtake.
    const afterSendersTurn = (check: () => void) => (postgresUrl ? setTimeout(check, 50) : setImmediate(check));
    const transport: MailTransport = {
      async send(mail) {
        mostAtOnce = Math.max(mostAtOnce, ++active);
        afterSendersTurn(() => {
          if (closed) return;
          // Claimed mails only ever reach the relay, so once as many are here as are claimed, all are.
          void claimed().then(
            (n) => active === n && open(),
            () => undefined,
          );
        });
        await gate;
        active--;
        delivered.push(mail.to);
        return { response: '250 accepted' };
      },
      close() {},
    };
    services = await createServices(config, createLogger('silent'), { transport });
  });
  afterEach(async () => {
    closed = true;
    await services.close();
    await pgDatabase?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends and records every mail once, claiming the next batch before the previous is recorded', async () => {
    await queueMails(services, 120);
    const summary = await services.sender.drain();
    expect(summary).toEqual({ sent: 120, retried: 0, failed: 0 });
    expect(new Set(delivered).size).toBe(120);
    expect(delivered).toHaveLength(120);
    expect(await services.store.first(sql`SELECT count(*) AS n FROM outbox WHERE state = 'sent'`)).toEqual({ n: 120 });
    // More than one batch of 50 was with the relay at the same time.
    expect(mostAtOnce).toBeGreaterThan(50);
  });
});
