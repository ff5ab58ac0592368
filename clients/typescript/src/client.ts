// A thin client for odod: it starts `odod serve`, does the handshake and
// offers typed requests and notification events over vscode-jsonrpc.

import { spawn, type ChildProcess } from 'node:child_process';
import {
	createMessageConnection,
	ProgressType,
	StreamMessageReader,
	StreamMessageWriter,
	type CancellationToken,
	type Disposable,
	type MessageConnection,
} from 'vscode-jsonrpc/node.js';
import { Checker, type MetaModel } from './metaModel.js';
import * as p from './protocol.js';

/** How to run odod. */
export interface SpawnOptions {
	/** The odod binary (default: odod on the PATH). */
	command?: string;
	/** Its arguments (default: serve). */
	args?: string[];
	env?: NodeJS.ProcessEnv;
	/** Receives odod's log (its stderr) as it is written. */
	onStderr?: (text: string) => void;
	/**
	 * Check every result and notification odod sends against this
	 * description (protocol/metaModel.json): a result that does not match
	 * rejects its request; every mismatch is kept in violations.
	 */
	metaModel?: MetaModel;
}

/** How to run odod and what to tell it in the handshake. */
export interface StartOptions extends SpawnOptions {
	clientInfo?: p.ClientInfo;
	/** odod's settings; protocolVersion defaults to the bindings' own. */
	initializationOptions?: p.InitializationOptions;
	/** Create the progress tokens odod asks for (default true). */
	workDoneProgress?: boolean;
}

/** A progress value: begin, any number of reports, end. */
export type WorkDoneProgress = p.WorkDoneProgressBegin | p.WorkDoneProgressReport | p.WorkDoneProgressEnd;

type Listener = (params: never) => void;

/** One odod process and the connection to it. */
export class OdodClient {
	readonly connection: MessageConnection;
	/** Resolves with odod's exit code once the process ended. */
	readonly exited: Promise<number | null>;
	/** Whatever odod sent that does not match the description (with metaModel). */
	readonly violations: string[] = [];
	/** The answer to initialize, once initialized. */
	initializeResult?: p.InitializeResult;

	private readonly checker?: Checker;
	private readonly listeners = new Map<string, Set<Listener>>();

	private constructor(
		readonly child: ChildProcess,
		opts: SpawnOptions,
	) {
		if (!child.stdout || !child.stdin) throw new Error('odod was not started with piped stdio');
		this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
		if (opts.onStderr) child.stderr?.on('data', (d: Buffer) => opts.onStderr?.(d.toString()));
		if (opts.metaModel) this.checker = new Checker(opts.metaModel);
		this.connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
		this.connection.onNotification((method: string, params: unknown) => {
			this.verify(this.checker?.params(method, params));
			for (const l of this.listeners.get(method) ?? []) (l as (p: unknown) => void)(params);
		});
		this.connection.listen();
	}

	/** Starts odod without the handshake (send initialize yourself). */
	static spawn(opts: SpawnOptions = {}): OdodClient {
		const child = spawn(opts.command ?? 'odod', opts.args ?? ['serve'], { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env });
		return new OdodClient(child, opts);
	}

	/** Starts odod and does the handshake: initialize, then initialized. */
	static async start(opts: StartOptions = {}): Promise<OdodClient> {
		const c = OdodClient.spawn(opts);
		try {
			await c.initialize(opts);
		} catch (e) {
			c.child.kill();
			throw e;
		}
		return c;
	}

	/**
	 * The handshake. It sends the bindings' protocol version, so an odod of
	 * another major version refuses it (-32602), as it does when
	 * initializationOptions.requiredMethods names a method it lacks.
	 */
	async initialize(opts: Omit<StartOptions, keyof SpawnOptions> = {}): Promise<p.InitializeResult> {
		const progress = opts.workDoneProgress ?? true;
		if (progress) this.onRequest('window/workDoneProgress/create', () => null);
		const res = await this.request('initialize', {
			processId: process.pid,
			clientInfo: opts.clientInfo,
			capabilities: { window: { workDoneProgress: progress } },
			initializationOptions: { protocolVersion: p.protocolVersion, ...opts.initializationOptions },
		});
		await this.notify('initialized', {});
		this.initializeResult = res;
		return res;
	}

	/** Sends a request and returns its typed result. */
	async request<M extends keyof p.ClientRequests>(
		method: M,
		params: p.ClientRequests[M]['params'],
		token?: CancellationToken,
	): Promise<p.ClientRequests[M]['result']> {
		const args: unknown[] = params === undefined ? [] : [params];
		if (token) args.push(token);
		const res = await this.connection.sendRequest<p.ClientRequests[M]['result']>(method, ...args);
		const problems = this.checker?.result(method, res) ?? [];
		this.verify(problems);
		if (problems.length > 0) throw new Error(`odod's answer does not match the description: ${problems.join('; ')}`);
		return res;
	}

	/** Sends a notification. */
	notify<M extends keyof p.ClientNotifications>(method: M, params: p.ClientNotifications[M]['params']): Promise<void> {
		return params === undefined ? this.connection.sendNotification(method) : this.connection.sendNotification(method, params);
	}

	/** Listens to a notification odod sends; dispose the result to stop. */
	onNotification<M extends keyof p.ServerNotifications>(method: M, listener: (params: p.ServerNotifications[M]['params']) => void): Disposable {
		let set = this.listeners.get(method);
		if (!set) this.listeners.set(method, (set = new Set()));
		const l = listener as Listener;
		set.add(l);
		return { dispose: () => set.delete(l) };
	}

	/** Answers a request odod sends (one handler per method; the last wins). */
	onRequest<M extends keyof p.ServerRequests>(
		method: M,
		handler: (params: p.ServerRequests[M]['params']) => p.ServerRequests[M]['result'] | Promise<p.ServerRequests[M]['result']>,
	): Disposable {
		return this.connection.onRequest(method, (params: p.ServerRequests[M]['params']) => {
			this.verify(this.checker?.params(method, params));
			return handler(params);
		});
	}

	/** Listens to the $/progress of a token. */
	onProgress(token: string | number, listener: (value: WorkDoneProgress) => void): Disposable {
		return this.connection.onProgress(new ProgressType<WorkDoneProgress>(), token, (value) => {
			this.verify(this.checker?.params('$/progress', { token, value }));
			listener(value);
		});
	}

	/** shutdown, then exit; resolves with odod's exit code. */
	async stop(): Promise<number | null> {
		await this.request('shutdown', undefined);
		await this.notify('exit', undefined);
		return this.exited;
	}

	private verify(problems: string[] | undefined): void {
		if (problems) this.violations.push(...problems);
	}
}
