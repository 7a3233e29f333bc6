import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** Decides how the sink answers the n-th message (0-based): accept, or reject with an SMTP code. */
export type Responder = (index: number) => { code: number; message: string } | undefined;

export interface SmtpSink {
  url: string;
  port: number;
  mails: ParsedMail[];
  /** The SMTP envelope's recipients (RCPT TO) of each accepted mail, in the order of `mails`. */
  envelopes: string[][];
  /** How many DATA commands were answered, accepted or not. */
  attempts: number;
  /** How many messages arrived whole, answered or not yet. */
  received: number;
  respond(responder: Responder): void;
  /**
   * Holds every answer (after any delay) until the returned function is called: a relay that has the
   * mail and has not said so yet.
   */
  hold(): () => void;
  waitFor(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  /** Resolves once `count` messages have arrived, answered or not. */
  waitForReceived(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface SinkOptions {
  /** Listen on this port (to bring a relay "back" where it was); 0 picks a free one. */
  port?: number;
  /** Require AUTH with these credentials; any others are refused with 535. */
  auth?: { user: string; pass: string };
  /** Wait this long before answering each message, as a slow relay does. */
  delayMs?: number;
}

/** A real SMTP server on 127.0.0.1 that parses what arrives, and can misbehave on purpose. */
export async function startSmtpSink(options: SinkOptions = {}): Promise<SmtpSink> {
  let responder: Responder = () => undefined;
  let held: Promise<void> | undefined;
  const waiters: Array<() => void> = [];
  const wakeWaiters = () => waiters.splice(0).forEach((wake) => wake());
  const sink = {
    mails: [] as ParsedMail[],
    envelopes: [] as string[][],
    attempts: 0,
    received: 0,
  };
  const { auth } = options;
  const server = new SMTPServer({
    authOptional: !auth,
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(login, _session, callback) {
      if (auth && login.username === auth.user && login.password === auth.pass)
        return callback(null, { user: auth.user });
      const error = new Error('Invalid username or password') as Error & { responseCode: number };
      error.responseCode = 535;
      callback(error);
    },
    onData(stream, session, callback) {
      const recipients = session.envelope.rcptTo.map((r) => r.address);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        sink.received++;
        wakeWaiters();
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        if (held) await held;
        const rejection = responder(sink.attempts++);
        if (rejection) {
          const error = new Error(rejection.message) as Error & { responseCode: number };
          error.responseCode = rejection.code;
          return callback(error);
        }
        simpleParser(Buffer.concat(chunks))
          .then((mail) => {
            sink.mails.push(mail);
            sink.envelopes.push(recipients);
            wakeWaiters();
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  // A client killed mid-conversation (the crash tests do that) resets its connection: not our error.
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') throw error;
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  async function waitUntil(done: () => boolean, timeoutMs: number, failure: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(failure());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  const credentials = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@` : '';

  return Object.assign(sink, {
    url: `smtp://${credentials}127.0.0.1:${port}`,
    port,
    respond(r: Responder) {
      responder = r;
    },
    hold() {
      let release!: () => void;
      held = new Promise<void>((resolve) => (release = resolve));
      return () => {
        held = undefined;
        release();
      };
    },
    async waitFor(count: number, timeoutMs = 15_000): Promise<ParsedMail[]> {
      await waitUntil(
        () => sink.mails.length >= count,
        timeoutMs,
        () => `expected ${count} mails, got ${sink.mails.length}`,
      );
      return sink.mails;
    },
    waitForReceived: (count: number, timeoutMs = 15_000) =>
      waitUntil(
        () => sink.received >= count,
        timeoutMs,
        () => `expected ${count} messages to arrive, got ${sink.received}`,
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
