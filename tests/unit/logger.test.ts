import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, redactPath } from '../../server/logger';

describe('redactPath', () => {
  it('cuts tokens and query strings out of logged paths', () => {
    expect(redactPath('/signatures/12.abcdefghijklmnopqrstuvwxyz0/confirm')).toBe('/signatures/:token/confirm');
    expect(redactPath('/unsubscribe/7.abcdefghijklmnopqrstuvwxyz0')).toBe('/unsubscribe/:token');
    expect(redactPath('/petitions/x?email=ada@example.org')).toBe('/petitions/x');
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
