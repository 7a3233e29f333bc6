import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, redactAddresses, redactPath } from '../../server/logger';

describe('redactPath', () => {
  it('cuts tokens and query strings out of logged paths', () => {
    expect(redactPath('/signatures/12.abcdefghijklmnopqrstuvwxyz0/confirm')).toBe('/signatures/:token/confirm');
    expect(redactPath('/unsubscribe/7.abcdefghijklmnopqrstuvwxyz0')).toBe('/unsubscribe/:token');
    expect(redactPath('/petitions/x?email=ada@example.org')).toBe('/petitions/x');
    // Whatever a mail client stuck to the link, and the dot written %2E (Express still routes it).
    for (const tail of ['.', ')', '%3E', ';x', '>']) {
      expect(redactPath(`/unsubscribe/7.abcdefghijklmnopqrstuvwxyz0${tail}`)).toBe('/unsubscribe/:token');
    }
    expect(redactPath('/signatures/12.abcdefghijklmnopqrstuvwxyz0;x/confirm')).toBe('/signatures/:token/confirm');
    expect(redactPath('/signatures/1%2Eabcdefghijklmnopqrstuvwxyz0/confirm')).toBe('/signatures/:token/confirm');
    expect(redactPath('/signatures/1%2eabcdefghijklmnopqrstuvwxyz0/confirm?x=1')).toBe('/signatures/:token/confirm');
    expect(redactPath('/petitions/fund-defence-fairly/map.svg')).toBe('/petitions/fund-defence-fairly/map.svg');
  });
});

describe('redactAddresses', () => {
  it('takes the addresses out of a relay answer, and leaves the rest', () => {
    expect(redactAddresses('EENVELOPE: 550 <reject.me@example.org>: Recipient address rejected')).toBe(
      'EENVELOPE: 550 <<address>>: Recipient address rejected',
    );
    expect(redactAddresses('550 5.1.1 zoë+x@exämple.org, bob@b.example: no such user')).toBe(
      '550 5.1.1 <address>, <address>: no such user',
    );
    expect(redactAddresses('421 4.7.0 Try again later')).toBe('421 4.7.0 Try again later');
  });
});

describe('createLogger', () => {
  it('writes JSON lines at its level to the destination it is given', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-log-'));
    try {
      const file = path.join(dir, 'app.log');
      const logger = createLogger('info', file);
      logger.debug('not at info');
      logger.info({ petition: 'fund-defence-fairly' }, 'signed');
      // The file is opened and written asynchronously: wait for the line (the debug one came first).
      const read = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
      for (const deadline = Date.now() + 2000; !read().endsWith('\n') && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const lines = read()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'signed', petition: 'fund-defence-fairly' })]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
