/**
 * An SMTP server that accepts every message and throws it away, in a process of its own: a relay is
 * another machine in production, and its parsing should not take CPU time from what is measured.
 * Reports its port, then its counts (and the Message-IDs it received) whenever asked, over IPC.
 */
import { SMTPServer } from 'smtp-server';
import { MessageIds } from './messageIds';

const stats = { messages: 0, bytes: 0 };
const ids = new MessageIds();
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    ids.watch(stream);
    stream.on('data', (chunk: Buffer) => (stats.bytes += chunk.length));
    stream.on('end', () => {
      stats.messages++;
      callback();
    });
  },
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.server.address() as { port: number };
  process.send!({ port });
});

process.on('message', (message: string) => {
  if (message === 'stats') process.send!({ stats });
  if (message === 'ids') process.send!({ ids: { entries: ids.entries(), missing: ids.missing } });
  if (message === 'reset') {
    stats.messages = stats.bytes = 0;
    ids.reset();
  }
  if (message === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
