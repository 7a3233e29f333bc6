import { queueMails } from '../helpers/factories';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import type { MailTransport } from '../../server/mail/mailer';
import { createServices, type Services } from '../../server/services';

describe('the outbox sender keeps two batches in flight', () => {
  let dir: string;
  let services: Services;
  let active = 0;
  let mostAtOnce = 0;
  const delivered: string[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-outbox-'));
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_PATH: path.join(dir, 'test.db'),
      DATA_DIR: dir,
      SECRET: 'a-test-secret-that-is-long-enough-000000',
    });
    // A relay that holds on to mail until it has every mail the sender claimed (checked once the
    // sender has had its turn to claim more), and counts how many it holds at once: only a second
    // batch claimed and sent before the first is answered gets past 50.
    let open: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const claimed = () => services.db.prepare("SELECT count(*) FROM outbox WHERE state = 'sending'").pluck().get();
    const transport: MailTransport = {
      async send(mail) {
        mostAtOnce = Math.max(mostAtOnce, ++active);
        setImmediate(() => services.db.open && active === claimed() && open());
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
    await services.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends and records every mail once, claiming the next batch before the previous is recorded', async () => {
    await queueMails(services, 120);
    const summary = await services.sender.drain();
    expect(summary).toEqual({ sent: 120, retried: 0, failed: 0 });
    expect(new Set(delivered).size).toBe(120);
    expect(delivered).toHaveLength(120);
    expect(services.db.prepare("SELECT count(*) FROM outbox WHERE state = 'sent'").pluck().get()).toBe(120);
    // More than one batch of 50 was with the relay at the same time.
    expect(mostAtOnce).toBeGreaterThan(50);
  });
});
