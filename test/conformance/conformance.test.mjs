// Editor-side conformance: the real vscode-jsonrpc client (what VS Code's
// language client uses) spawns odod serve and checks the lifecycle,
// cancellation, progress, errors, a malformed message and the exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection, StreamMessageReader, StreamMessageWriter,
  CancellationTokenSource, ProgressType, ResponseError,
} from 'vscode-jsonrpc/node.js';

const ODOD = process.env.ODOD_BIN ?? resolve('../../bin/odod');

function start(args = ['serve']) {
  const child = spawn(ODOD, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  let raw = '';
  child.stdout.on('data', (d) => { raw += d; });
  const exited = new Promise((res) => child.on('exit', (code) => res(code)));
  const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const logs = [];
  conn.onNotification('window/logMessage', (p) => logs.push(p));
  conn.listen();
  return { child, conn, exited, logs, raw: () => raw, stderr: () => stderr };
}

async function initialize(conn, extra = {}) {
  const res = await conn.sendRequest('initialize', {
    processId: process.pid,
    clientInfo: { name: 'conformance', version: '1' },
    capabilities: { window: { workDoneProgress: true } },
    initializationOptions: { debugMethods: true, logLevel: 'info' },
    ...extra,
  });
  await conn.sendNotification('initialized', {});
  return res;
}

async function stop(s) {
  await s.conn.sendRequest('shutdown');
  await s.conn.sendNotification('exit');
  return s.exited;
}

function codeOf(promise) {
  return promise.then(
    () => assert.fail('expected an error'),
    (e) => { assert.ok(e instanceof ResponseError, `not a ResponseError: ${e}`); return e; },
  );
}

test('lifecycle: -32002 before initialize, serverInfo, second initialize refused, exit 0 after shutdown', async () => {
  const s = start();
  const early = await codeOf(s.conn.sendRequest('odod/status'));
  assert.equal(early.code, -32002);
  const res = await initialize(s.conn);
  assert.equal(res.serverInfo.name, 'odod');
  assert.ok(res.capabilities.experimental.methods.includes('odod/workspace/open'));
  const again = await codeOf(s.conn.sendRequest('initialize', { processId: null, capabilities: {} }));
  assert.equal(again.code, -32600);
  assert.ok(Array.isArray(again.data.suggestions) && again.data.suggestions.length > 0);
  const status = await s.conn.sendRequest('odod/status');
  assert.equal(status.version, res.serverInfo.version);
  assert.equal(await stop(s), 0);
  assert.ok(s.logs.some((l) => l.message.includes('initialized')), 'odod mirrors its log to window/logMessage');
});

test('exit without shutdown ends with code 1', async () => {
  const s = start();
  await initialize(s.conn);
  await s.conn.sendNotification('exit');
  assert.equal(await s.exited, 1);
});

test('unknown method and invalid params carry codes and suggestions', async () => {
  const s = start();
  await initialize(s.conn);
  const unknown = await codeOf(s.conn.sendRequest('odod/noSuchMethod', {}));
  assert.equal(unknown.code, -32601);
  assert.ok(unknown.data.suggestions.length > 0);
  const bad = await codeOf(s.conn.sendRequest('odod/workspace/open', { uri: 42 }));
  assert.equal(bad.code, -32602);
  assert.equal(bad.data.field, 'uri');
  const notDir = await codeOf(s.conn.sendRequest('odod/workspace/open', { uri: pathToFileURL(ODOD).href }));
  assert.equal(notDir.code, -32602);
  assert.match(notDir.data.reason, /not a directory/);
  assert.equal(await stop(s), 0);
});

test('a cancelled request answers -32800 while other requests are served', async () => {
  const s = start();
  await initialize(s.conn);
  const source = new CancellationTokenSource();
  const slow = s.conn.sendRequest('odod/debug/sleep', { durationMs: 60000 }, source.token);
  const t0 = Date.now();
  const status = await s.conn.sendRequest('odod/status');
  assert.ok(Array.isArray(status.workspaces), 'status is served while the slow request runs');
  source.cancel();
  const err = await codeOf(slow);
  assert.equal(err.code, -32800);
  assert.ok(Date.now() - t0 < 30000, 'the cancellation ended the request');
  assert.equal(await stop(s), 0);
});

test('progress: on the client token, and on a token odod creates, begin → report → end', async () => {
  const s = start();
  await initialize(s.conn);
  const dir = mkdtempSync(join(tmpdir(), 'odod-conf-'));
  try {
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(dir, `d${d}`));
      for (let f = 0; f < 150; f++) writeFileSync(join(dir, `d${d}`, `f${f}.js`), 'x');
    }
    // The client's own token.
    const kinds = [];
    s.conn.onProgress(new ProgressType(), 'client-token', (v) => kinds.push(v.kind));
    const sleep = await s.conn.sendRequest('odod/debug/sleep', { durationMs: 350, workDoneToken: 'client-token' });
    assert.ok(sleep.sleptMs >= 350);
    assert.equal(kinds[0], 'begin');
    assert.equal(kinds.at(-1), 'end');
    assert.ok(kinds.includes('report'));

    // A token odod asks for with window/workDoneProgress/create.
    const created = [];
    const seen = [];
    s.conn.onRequest('window/workDoneProgress/create', ({ token }) => {
      created.push(token);
      s.conn.onProgress(new ProgressType(), token, (v) => seen.push(v));
      return null;
    });
    const ws = await s.conn.sendRequest('odod/workspace/open', { uri: pathToFileURL(dir).href });
    assert.equal(ws.index.files, 20 * 150);
    assert.equal(ws.index.dirs, 20);
    assert.equal(created.length, 1);
    assert.equal(seen[0].kind, 'begin');
    assert.equal(seen.at(-1).kind, 'end');
    const again = await s.conn.sendRequest('odod/workspace/open', { uri: pathToFileURL(dir + '/d0/..').href });
    assert.equal(again.workspaceId, ws.workspaceId);

    // window/workDoneProgress/cancel cancels the request behind the token.
    const created2 = [];
    s.conn.onRequest('window/workDoneProgress/create', ({ token }) => { created2.push(token); return null; });
    const long = s.conn.sendRequest('odod/debug/sleep', { durationMs: 60000 });
    while (created2.length === 0) await new Promise((r) => setTimeout(r, 20));
    await s.conn.sendNotification('window/workDoneProgress/cancel', { token: created2[0] });
    assert.equal((await codeOf(long)).code, -32800);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(await stop(s), 0);
});

test('a malformed message is answered -32700 and the connection goes on', async () => {
  const s = start();
  await initialize(s.conn);
  const body = '{"jsonrpc":"2.0","id":77,"method":';
  s.child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const status = await s.conn.sendRequest('odod/status');
  assert.ok(status.version);
  assert.match(s.raw(), /"id":null,"error":\{"code":-32700/);
  assert.equal(await stop(s), 0);
});

test('a malformed frame ends the connection with a log line, not a crash', async () => {
  const s = start();
  await initialize(s.conn);
  s.child.stdin.write('Content-Length: 999999999999\r\n\r\n');
  assert.equal(await s.exited, 1);
  assert.match(s.stderr(), /malformed frame/);
  assert.doesNotMatch(s.stderr(), /panic/);
});
