import { parentPort, threadId, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadOptions, LoadResult } from './lib';

// One autocannon run on this thread (see load() in lib.ts); only the summary goes back.
const connections = 50;
const options = workerData as LoadOptions;
const latencies: number[] = [];
const status: Record<string, number> = {};
let bytes = 0;
let sequence = 0;
let last = 0;
const body = options.body;
const start = performance.now();

const instance = autocannon(
  {
    url: options.url,
    connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.seconds }),
    requests: [
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        // The thread id keeps numbers unique across the runs (warm-up, measure) of one process.
        ...(body && {
          setupRequest: (request) => ({ ...request, body: body.replaceAll('{n}', `${threadId}-${sequence++}`) }),
        }),
      },
    ],
  },
  (error: unknown, result: autocannon.Result) => {
    if (error) throw error;
    // The rate is taken up to the last answer: autocannon reports a duration rounded up to its
    // next one-second tick, which would understate the rate of a fixed-amount run by up to 10%.
    const seconds = (last - start) / 1000;
    latencies.sort((a, b) => a - b);
    const responses = latencies.length;
    const okOr3xx = Object.entries(status)
      .filter(([code]) => code.startsWith('2') || code.startsWith('3'))
      .reduce((sum, [, count]) => sum + count, 0);
    const summary: LoadResult = {
      responses,
      rps: seconds > 0 ? responses / seconds : 0,
      p99: latencies[Math.ceil(responses * 0.99) - 1] ?? 0, // nearest rank
      status,
      other: responses - okOr3xx + result.errors,
      bytes: responses ? bytes / responses : 0,
    };
    parentPort!.postMessage(summary);
  },
);

instance.on('response', (_client, statusCode, resBytes, responseTime) => {
  last = performance.now();
  latencies.push(responseTime);
  status[statusCode] = (status[statusCode] ?? 0) + 1;
  bytes += resBytes;
});
