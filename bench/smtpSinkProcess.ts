/**
 * An SMTP server that accepts every message and throws it away, in a process of its own: a relay is
 * another machine in production, and its parsing should not take CPU time from what is measured.
 * Reports its port, then its counts whenever asked, over IPC.
 */
import { SMTPServer } from 'smtp-server';

const stats = { messages: 0, bytes: 0 };
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
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
  if (message === 'reset') stats.messages = stats.bytes = 0;
  if (message === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
