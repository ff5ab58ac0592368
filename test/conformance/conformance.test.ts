// Editor-side conformance: the typed odod-client (clients/typescript, on
// vscode-jsonrpc, what VS Code's language client uses) spawns odod serve and
// checks the lifecycle, versioning, cancellation, progress, errors, a
// malformed message and the exit code. It is compiled against the generated
// types, so a field renamed in Go but not here fails to compile, and every
// answer and notification is checked against protocol/metaModel.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
	Checker, OdodClient, CancellationTokenSource, ResponseError, ErrorCodes, protocolVersion,
	type MetaModel, type StartOptions, type WorkDoneProgress,
} from '../../clients/typescript/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const ODOD = process.env.ODOD_BIN ?? resolve(here, '../../bin/odod');
const metaModel = JSON.parse(readFileSync(resolve(here, '../../protocol/metaModel.json'), 'utf8')) as MetaModel;

interface Session {
	client: OdodClient;
	stderr: () => string;
	stdout: () => string;
	logs: string[];
}

function spawnOdod(): Session {
	let stderr = '';
	let stdout = '';
	const client = OdodClient.spawn({ command: ODOD, metaModel, onStderr: (t) => { stderr += t; } });
	client.child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
	const logs: string[] = [];
	client.onNotification('window/logMessage', (p) => logs.push(p.message));
	return { client, stderr: () => stderr, stdout: () => stdout, logs };
}

const options: StartOptions = {
	clientInfo: { name: 'conformance', version: '1' },
	initializationOptions: { debugMethods: true, logLevel: 'info' },
};

async function started(): Promise<Session> {
	const s = spawnOdod();
	await s.client.initialize(options);
	return s;
}

async function stop(s: Session): Promise<number | null> {
	const code = await s.client.stop();
	assert.deepEqual(s.client.violations, [], 'everything odod sent matches protocol/metaModel.json');
	return code;
}

async function errorOf(promise: Promise<unknown>): Promise<ResponseError<{ field?: string; reason?: string; suggestions: unknown[] }>> {
	try {
		await promise;
	} catch (e) {
		assert.ok(e instanceof ResponseError, `not a ResponseError: ${e}`);
		return e as ResponseError<{ field?: string; reason?: string; suggestions: unknown[] }>;
	}
	return assert.fail('expected an error');
}

test('lifecycle: -32002 before initialize, serverInfo, second initialize refused, exit 0 after shutdown', async () => {
	const s = spawnOdod();
	const early = await errorOf(s.client.request('odod/status', {}));
	assert.equal(early.code, ErrorCodes.ServerNotInitialized);
	const res = await s.client.initialize(options);
	assert.equal(res.serverInfo.name, 'odod');
	assert.equal(res.capabilities.experimental.protocolVersion, protocolVersion);
	assert.ok(res.capabilities.experimental.methods.includes('odod/workspace/open'));
	const again = await errorOf(s.client.request('initialize', { capabilities: {} }));
	assert.equal(again.code, ErrorCodes.InvalidRequest);
	assert.ok(Array.isArray(again.data?.suggestions) && again.data.suggestions.length > 0);
	const status = await s.client.request('odod/status', {});
	assert.equal(status.version, res.serverInfo.version);
	assert.equal(await stop(s), 0);
	assert.ok(s.logs.some((l) => l.includes('initialized')), 'odod mirrors its log to window/logMessage');
});

test('versioning: another major version or a missing required method is refused, naming it', async () => {
	const s = spawnOdod();
	const [major] = protocolVersion.split('.');
	const newer = await errorOf(s.client.initialize({ initializationOptions: { protocolVersion: `${Number(major) + 1}.0.0` } }));
	assert.equal(newer.code, ErrorCodes.InvalidParams);
	assert.equal(newer.data?.field, 'initializationOptions.protocolVersion');
	const missing = await errorOf(s.client.initialize({ initializationOptions: { requiredMethods: ['odod/push', 'odod/teleport'] } }));
	assert.equal(missing.code, ErrorCodes.InvalidParams);
	assert.match(missing.data?.reason ?? '', /does not speak odod\/teleport$/);
	await s.client.initialize({ initializationOptions: { requiredMethods: ['odod/push', 'odod/log', '$/progress'] } });
	assert.equal(await stop(s), 0);
});

test('exit without shutdown ends with code 1', async () => {
	const s = await started();
	await s.client.notify('exit', undefined);
	assert.equal(await s.client.exited, 1);
});

test('unknown method and invalid params carry codes and suggestions', async () => {
	const s = await started();
	const unknown = await errorOf(s.client.connection.sendRequest('odod/noSuchMethod', {}));
	assert.equal(unknown.code, ErrorCodes.MethodNotFound);
	assert.ok((unknown.data?.suggestions.length ?? 0) > 0);
	// A number where the description says string: only an untyped call can send it.
	const bad = await errorOf(s.client.connection.sendRequest('odod/workspace/open', { uri: 42 }));
	assert.equal(bad.code, ErrorCodes.InvalidParams);
	assert.equal(bad.data?.field, 'uri');
	const notDir = await errorOf(s.client.request('odod/workspace/open', { uri: pathToFileURL(ODOD).href }));
	assert.equal(notDir.code, ErrorCodes.InvalidParams);
	assert.match(notDir.data?.reason ?? '', /not a directory/);
	assert.equal(await stop(s), 0);
});

test('a cancelled request answers -32800 while other requests are served', async () => {
	const s = await started();
	const source = new CancellationTokenSource();
	const slow = s.client.request('odod/debug/sleep', { durationMs: 60000 }, source.token);
	const t0 = Date.now();
	const status = await s.client.request('odod/status', {});
	assert.ok(Array.isArray(status.workspaces), 'status is served while the slow request runs');
	source.cancel();
	assert.equal((await errorOf(slow)).code, ErrorCodes.RequestCancelled);
	assert.ok(Date.now() - t0 < 30000, 'the cancellation ended the request');
	assert.equal(await stop(s), 0);
});

test('progress: on the client token, and on a token odod creates, begin → report → end', async () => {
	const s = await started();
	const dir = mkdtempSync(join(tmpdir(), 'odod-conf-'));
	try {
		for (let d = 0; d < 20; d++) {
			mkdirSync(join(dir, `d${d}`));
			for (let f = 0; f < 150; f++) writeFileSync(join(dir, `d${d}`, `f${f}.js`), 'x');
		}
		// The client's own token.
		const kinds: string[] = [];
		s.client.onProgress('client-token', (v) => kinds.push(v.kind));
		const sleep = await s.client.request('odod/debug/sleep', { durationMs: 350, workDoneToken: 'client-token' });
		assert.ok(sleep.sleptMs >= 350);
		assert.equal(kinds[0], 'begin');
		assert.equal(kinds.at(-1), 'end');
		assert.ok(kinds.includes('report'));

		// A token odod asks for with window/workDoneProgress/create.
		const created: (string | number)[] = [];
		const seen: WorkDoneProgress[] = [];
		s.client.onRequest('window/workDoneProgress/create', ({ token }) => {
			created.push(token);
			s.client.onProgress(token, (v) => seen.push(v));
			return null;
		});
		const ws = await s.client.request('odod/workspace/open', { uri: pathToFileURL(dir).href });
		assert.equal(ws.index.files, 20 * 150);
		assert.equal(ws.index.dirs, 20);
		assert.equal(created.length, 1);
		assert.equal(seen[0]?.kind, 'begin');
		assert.equal(seen.at(-1)?.kind, 'end');
		const again = await s.client.request('odod/workspace/open', { uri: pathToFileURL(dir + '/d0/..').href });
		assert.equal(again.workspaceId, ws.workspaceId);
		const status = await s.client.request('odod/status', {});
		assert.equal(status.workspaces.find((w) => w.workspaceId === ws.workspaceId)?.state, 'watching');

		// window/workDoneProgress/cancel cancels the request behind the token.
		const created2: (string | number)[] = [];
		s.client.onRequest('window/workDoneProgress/create', ({ token }) => { created2.push(token); return null; });
		const long = s.client.request('odod/debug/sleep', { durationMs: 60000 });
		while (created2.length === 0) await new Promise((r) => setTimeout(r, 20));
		await s.client.notify('window/workDoneProgress/cancel', { token: created2[0]! });
		assert.equal((await errorOf(long)).code, ErrorCodes.RequestCancelled);
		await s.client.request('odod/workspace/close', { workspaceId: ws.workspaceId });
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	assert.equal(await stop(s), 0);
});

test('a malformed message is answered -32700 and the connection goes on', async () => {
	const s = await started();
	const body = '{"jsonrpc":"2.0","id":77,"method":';
	s.client.child.stdin?.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
	const status = await s.client.request('odod/status', {});
	assert.ok(status.version);
	assert.match(s.stdout(), /"id":null,"error":\{"code":-32700/);
	assert.equal(await stop(s), 0);
});

test('a malformed frame ends the connection with a log line, not a crash', async () => {
	const s = await started();
	s.client.child.stdin?.write('Content-Length: 999999999999\r\n\r\n');
	assert.equal(await s.client.exited, 1);
	assert.match(s.stderr(), /malformed frame/);
	assert.doesNotMatch(s.stderr(), /panic/);
});

test('the checker catches what the description does not say', () => {
	const check = (v: unknown) => new Checker(metaModel).result('odod/status', v);
	assert.deepEqual(check({ version: 'v1', workspaces: [], goroutines: 12 }), []);
	assert.match(check({ version: 'v1', goroutines: 12 }).join(), /workspaces: required, missing/);
	assert.match(check({ version: 1, workspaces: [], goroutines: 12 }).join(), /version: want a string/);
	assert.match(check({ version: 'v1', workspaces: [], goroutines: 12, extra: true }).join(), /extra: not in the description/);
	assert.match(check({ version: 'v1', workspaces: [{ workspaceId: 'w', uri: 'u', state: 'sleeping', index: { files: 1, dirs: 0, bytes: 1, ignored: 0 }, watch: { active: false } }] }).join(),
		/state: not a value of WorkspaceState/);
});
