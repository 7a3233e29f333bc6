/**
 * Preloaded (node --require) into a spawned server by tests: from the first POST that arrives while
 * the file FAIL_FSYNC_FLAG names exists, every fsync of a SQLite WAL answers EIO, as a failing disk
 * does. Armed by the request, not by the file alone, so that background writes the test did not
 * cause (a mail recorded as sent) cannot meet the failure first.
 */
const fs = require('node:fs');
const http = require('node:http');

const flag = process.env.FAIL_FSYNC_FLAG;
let armed = false;

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function emitRequest(event, req, ...rest) {
  if (event === 'request' && req.method === 'POST' && flag && fs.existsSync(flag)) armed = true;
  return emit.call(this, event, req, ...rest);
};

const fsync = fs.fsync;
fs.fsync = function failingFsync(fd, callback) {
  let file = '';
  try {
    file = fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    // not a descriptor this process can name: left alone
  }
  if (armed && file.endsWith('-wal')) {
    const error = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', errno: -5, syscall: 'fsync' });
    process.nextTick(callback, error);
    return;
  }
  fsync.call(fs, fd, callback);
};
