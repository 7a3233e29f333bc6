import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { requestLog } from '../../server/http/requestLog';

/** A logger writing its JSON lines into an array. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

function appWith(logger: pino.Logger) {
  const app = express();
  app.use(requestLog(logger, (url) => url.startsWith('/assets/')));
  app.get('/ok', (_req, res) => void res.send('ok'));
  app.get('/fails', () => {
    throw new Error('boom');
  });
  app.get('/assets/x.css', (_req, res) => void res.send('css'));
  app.get('/signatures/:token/confirm', (_req, res) => void res.status(404).send('no'));
  app.get('/slow', (_req, res) => void setTimeout(() => res.send('late'), 300));
  return app;
}

const until = async (check: () => boolean) => {
  for (const deadline = Date.now() + 2000; !check() && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('requestLog', () => {
  it('writes one line per request: method, path without tokens or query, status, time taken', async () => {
    const { lines, logger } = capture();
    const app = appWith(logger);
    await request(app).get('/ok?email=ada@example.org').set('Cookie', 'lang=fr').expect(200);
    await request(app).get('/signatures/12.abcdefghijklmnopqrstuvwxyz0/confirm').expect(404);
    await request(app).get('/assets/x.css').expect(200);
    await until(() => lines.length >= 2);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        req: { method: 'GET', url: '/ok' },
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
      }),
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        req: { method: 'GET', url: '/signatures/:token/confirm' },
        res: { statusCode: 404 },
      }),
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/ada@example|lang=fr|127\.0\.0\.1|abcdefghij/);
  });

  it('logs a 5xx as an error, and a request the client gave up on as aborted', async () => {
    const { lines, logger } = capture();
    const server = http.createServer(appWith(logger));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await request(server).get('/fails').expect(500);
      await new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/slow' });
        req.on('error', () => resolve());
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 50);
      });
      await until(() => lines.length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 400)); // the late answer must add nothing
      expect(lines).toEqual([
        expect.objectContaining({ level: 50, msg: 'request errored', res: { statusCode: 500 } }),
        expect.objectContaining({ level: 40, msg: 'request aborted', req: { method: 'GET', url: '/slow' } }),
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
