/**
 * Counts the Message-IDs an SMTP sink receives, so a benchmark can check that every mail arrived
 * exactly once rather than only that enough mails arrived. Reads each message's header and nothing
 * more; no dependency on the app, so the sink's own process stays small.
 */
import type { Readable } from 'node:stream';

const messageIdHeader = /^message-id:\s*(<[^>]*>)/im;
const headerLimit = 64 * 1024;

export class MessageIds {
  private readonly counts = new Map<string, number>();
  /** Messages whose header carried no Message-ID. */
  missing = 0;

  /** Reads the header of a message as it streams in; call from smtp-server's onData. */
  watch(stream: Readable): void {
    let header = '';
    let done = false;
    const onData = (chunk: Buffer) => {
      header += chunk.toString('latin1');
      const end = header.indexOf('\r\n\r\n');
      if (end < 0 && header.length < headerLimit) return;
      done = true;
      stream.off('data', onData);
      this.add(messageIdHeader.exec(end < 0 ? header : header.slice(0, end))?.[1]);
    };
    stream.on('data', onData);
    stream.once('end', () => {
      if (!done) this.add(messageIdHeader.exec(header)?.[1]);
    });
  }

  private add(id: string | undefined): void {
    if (!id) this.missing++;
    else this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  count(id: string): number {
    return this.counts.get(id) ?? 0;
  }

  entries(): Array<[string, number]> {
    return [...this.counts];
  }

  reset(): void {
    this.counts.clear();
    this.missing = 0;
  }
}

/**
 * Checks that each of `expected` was received exactly once. Returns what went wrong, in words, or
 * nothing when all is well.
 */
export function exactlyOnce(received: (id: string) => number, expected: string[], what: string): string[] {
  const missing = expected.filter((id) => received(id) === 0).length;
  const repeated = expected.filter((id) => received(id) > 1).length;
  const problems: string[] = [];
  if (missing) problems.push(`${missing} of ${expected.length} ${what} never arrived`);
  if (repeated) problems.push(`${repeated} of ${expected.length} ${what} arrived more than once`);
  return problems;
}
