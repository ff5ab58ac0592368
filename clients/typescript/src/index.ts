export * from './protocol.js';
export { OdodClient, type SpawnOptions, type StartOptions, type WorkDoneProgress } from './client.js';
export { Checker, type MetaModel } from './metaModel.js';
export { CancellationTokenSource, ResponseError, type CancellationToken, type Disposable } from 'vscode-jsonrpc/node.js';
