// odod's Node.js standby preload (dev-run passes it with --require in a
// standby process only). It blocks node before the app's main module is
// loaded until the supervisor hands over: the line "go" on the pipe named
// by ODOD_STANDBY_FD. End of file instead means the supervisor dropped this
// standby: exit quietly. Then it opens the inspector if dev-run asked
// (ODOD_STANDBY_INSPECT: the port), and node goes on to load the app, whose
// files are read now, after the push. Nothing is left behind for the app's
// own children (fork() would pass on execArgv and the environment).
'use strict';
const fdName = process.env.ODOD_STANDBY_FD;
if (fdName) {
  delete process.env.ODOD_STANDBY_FD;
  const fs = require('fs');
  const fd = Number(fdName);
  const buf = Buffer.alloc(64);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let got = '';
  while (!got.includes('\n')) {
    let n;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') {
        Atomics.wait(nap, 0, 0, 5);
        continue;
      }
      throw e;
    }
    if (n === 0) process.exit(0);
    got += buf.toString('utf8', 0, n);
  }
  fs.closeSync(fd);
  if (got.split('\n')[0] !== 'go') process.exit(0);
  const i = process.execArgv.findIndex((a, j) => a === '--require' && /standby\.js$/.test(process.execArgv[j + 1] || ''));
  if (i >= 0) process.execArgv.splice(i, 2);
  const port = process.env.ODOD_STANDBY_INSPECT;
  delete process.env.ODOD_STANDBY_INSPECT;
  if (port) require('inspector').open(Number(port), '127.0.0.1');
}
