import http from 'node:http';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadOptions, LoadResult } from './lib';

// One load run on this thread (see load() in lib.ts); only the summary goes back.
const connections = 50;
const options = workerData as LoadOptions;
const latencies: number[] = [];
const status: Record<string, number> = {};
let bytes = 0;
let sequence = 0;
let last = 0;
const body = options.body;
const start = performance.now();

/** The body of the next request: each `{n}` unique to it, the thread id keeping runs (warm-up, measure) apart. */
const nextBody = () => body?.replaceAll('{n}', `${threadId}-${sequence++}`);

function record(statusCode: number, resBytes: number, responseTime: number): void {
  last = performance.now();
  latencies.push(responseTime);
  status[statusCode] = (status[statusCode] ?? 0) + 1;
  bytes += resBytes;
}

function summarise(errors: number, addresses?: number): LoadResult {
  // The rate is taken up to the last answer: autocannon reports a duration rounded up to its
  // next one-second tick, which would understate the rate of a fixed-amount run by up to 10%.
  const seconds = (last - start) / 1000;
  latencies.sort((a, b) => a - b);
  const responses = latencies.length;
  const okOr3xx = Object.entries(status)
    .filter(([code]) => code.startsWith('2') || code.startsWith('3'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    responses,
    rps: seconds > 0 ? responses / seconds : 0,
    p99: latencies[Math.ceil(responses * 0.99) - 1] ?? 0, // nearest rank
    status,
    other: responses - okOr3xx + errors,
    bytes: responses ? bytes / responses : 0,
    ...(addresses !== undefined && { addresses }),
  };
}

/**
 * Source address number `n` of this thread: 127.<thread>.<n / 256>.<n % 256>. Every loopback
 * address is local on Linux, so a connection can be bound to any of them without configuration, and
 * the server sees each as a different client. 127.0.x.x, where the servers listen, is left out.
 */
function sourceAddress(n: number): string {
  if (n >= 65_536) throw new Error('out of source addresses: lower the load or raise perAddress');
  return `127.${1 + (threadId % 254)}.${n >> 8}.${n & 255}`;
}

/**
 * Load as many people would send it: 50 connections at a time, each from a source address of its
 * own that sends `perAddress` requests on one keep-alive connection, then makes way for the next
 * address. Node's HTTP client, since autocannon cannot choose a source address.
 */
async function fromManyAddresses(perAddress: number): Promise<LoadResult> {
  const url = new URL(options.url);
  const deadline = start + (options.seconds ?? Infinity) * 1000;
  let started = 0;
  let addresses = 0;
  let errors = 0;
  const more = () => (options.amount ? started < options.amount : performance.now() < deadline);

  const send = (agent: http.Agent, localAddress: string) =>
    new Promise<void>((resolve) => {
      const payload = nextBody();
      const sentAt = performance.now();
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: options.method ?? 'GET',
          headers: {
            ...options.headers,
            ...(payload !== undefined && { 'content-length': Buffer.byteLength(payload) }),
          },
          agent,
          localAddress,
        },
        (res) => {
          // Bytes on the wire: the status line and headers as sent, then the body.
          let size = `HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}\r\n\r\n`.length;
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            size += res.rawHeaders[i]!.length + res.rawHeaders[i + 1]!.length + 4;
          }
          res.on('data', (chunk: Buffer) => (size += chunk.length));
          res.on('end', () => {
            record(res.statusCode!, size, performance.now() - sentAt);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(payload);
    });

  const client = async () => {
    while (more()) {
      const localAddress = sourceAddress(addresses++);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < perAddress && more(); i++) {
        started++;
        await send(agent, localAddress);
      }
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  return summarise(errors, addresses);
}

if (options.perAddress) {
  void fromManyAddresses(options.perAddress).then((summary) => parentPort!.postMessage(summary));
} else {
  const instance = autocannon(
    {
      url: options.url,
      connections,
      ...(options.amount ? { amount: options.amount } : { duration: options.seconds }),
      requests: [
        {
          method: options.method ?? 'GET',
          headers: options.headers,
          ...(body && { setupRequest: (request) => ({ ...request, body: nextBody() }) }),
        },
      ],
    },
    (error: unknown, result: autocannon.Result) => {
      if (error) throw error;
      parentPort!.postMessage(summarise(result.errors));
    },
  );
  instance.on('response', (_client, statusCode, resBytes, responseTime) => record(statusCode, resBytes, responseTime));
}
