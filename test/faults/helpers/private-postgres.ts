import { execFile, execFileSync } from 'node:child_process';
import { accessSync, appendFileSync, chownSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deployMigrations } from '../../../scripts/lib/migrate.js';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** Where Debian's PostgreSQL 15 server binaries are; `PG_BIN_DIR` overrides it. */
export const DEFAULT_PG_BIN_DIR = '/usr/lib/postgresql/15/bin';

/** The OS user a root process runs the cluster as: PostgreSQL refuses to run as root. */
const CLUSTER_OS_USER = 'postgres';

/** Raised when the machine cannot run a private cluster; the message says what to install. */
export class PostgresBinariesMissingError extends Error {
  constructor(binDir: string, missing: string) {
    super(
      `PostgreSQL server binary ${missing} not found in ${binDir}: the fault tier starts its own clusters. ` +
        'Install the server (Debian: apt-get install postgresql-15) or set PG_BIN_DIR to its bin folder.',
    );
    this.name = 'PostgresBinariesMissingError';
  }
}

interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

function binary(binDir: string, name: string): string {
  const path = join(binDir, name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new PostgresBinariesMissingError(binDir, name);
  }
  return path;
}

async function lookUpUser(name: string): Promise<OsUser> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error(`Running as root, the private PostgreSQL cluster needs an OS user "${name}" to run as (PostgreSQL refuses root); create one with useradd`);
  }
}

/** Options of {@link PrivatePostgres.create}. */
export interface PrivatePostgresOptions {
  /** Folder of initdb/pg_ctl; `PG_BIN_DIR` or {@link DEFAULT_PG_BIN_DIR} by default. */
  binDir?: string;
}

/**
 * A PostgreSQL cluster of the machine's own server binaries, private to one test:
 * `initdb` into a temporary folder, served on a free loopback port with trust
 * auth (user `postgres`). `stop()` is a real outage (a fast shutdown: every
 * connection is cut, new ones are refused); `start()` brings back the same data
 * on the same port. Call `destroy()` in `afterAll`: it stops the server and
 * removes the folder, also after a failure.
 */
export class PrivatePostgres {
  private running = false;
  private forgetExitHook: () => void = () => {};

  private constructor(
    /** Loopback port the server listens on, the same after every restart. */
    readonly port: number,
    private readonly root: string,
    private readonly pgCtl: string,
    private readonly osUser: OsUser | undefined,
  ) {}

  private get dataDir(): string {
    return join(this.root, 'data');
  }

  private get logFile(): string {
    return join(this.root, 'server.log');
  }

  /** Creates the cluster (initdb) and starts it. */
  static async create(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const binDir = options.binDir ?? process.env.PG_BIN_DIR ?? DEFAULT_PG_BIN_DIR;
    const initdb = binary(binDir, 'initdb');
    const pgCtl = binary(binDir, 'pg_ctl');
    const osUser = process.getuid?.() === 0 ? await lookUpUser(CLUSTER_OS_USER) : undefined;
    const root = mkdtempSync(join(tmpdir(), 'telewan-pg-'));
    // The folder must belong to whoever runs the server (mkdtemp makes it 0700).
    if (osUser) chownSync(root, osUser.uid, osUser.gid);
    const cluster = new PrivatePostgres(await freePort(), root, pgCtl, osUser);
    // pg_ctl daemonises the server: should this process end without destroy(), take it down too.
    const onExit = () => cluster.destroySync();
    process.once('exit', onExit);
    cluster.forgetExitHook = () => process.off('exit', onExit);
    try {
      await cluster.exec(initdb, ['-D', cluster.dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync']);
      // A test database: durability is not what is tested, speed on a shared machine is.
      appendFileSync(
        join(cluster.dataDir, 'postgresql.conf'),
        [
          `port = ${cluster.port}`,
          `listen_addresses = '127.0.0.1'`,
          `unix_socket_directories = '${root}'`,
          'fsync = off',
          'synchronous_commit = off',
          'full_page_writes = off',
          'max_connections = 200',
          '',
        ].join('\n'),
      );
      await cluster.start();
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** `postgresql://postgres@127.0.0.1:<port>/<database>`. */
  url(database = 'telewan'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Creates `database` and applies the committed migrations with the project's own deploy; returns its URL. */
  async migrate(database = 'telewan'): Promise<string> {
    const url = this.url(database);
    await deployMigrations(url);
    return url;
  }

  /** Whether the server is up (as far as this object started or stopped it). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Starts the server on the same port and data; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    await this.exec(this.pgCtl, ['start', '-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60']);
    this.running = true;
  }

  /** A fast shutdown: open connections are cut at once and new ones refused until `start()`. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.exec(this.pgCtl, ['stop', '-D', this.dataDir, '-m', 'fast', '-w', '-t', '60']);
    this.running = false;
  }

  /** Stops the server (immediately) and removes its folder. Safe to call twice, and after a failed start. */
  async destroy(): Promise<void> {
    try {
      await this.exec(this.pgCtl, ['stop', '-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30']);
    } catch {
      // Not running (or never initialised): nothing to stop.
    }
    this.running = false;
    rmSync(this.root, { recursive: true, force: true });
    this.forgetExitHook();
  }

  private destroySync(): void {
    const args = ['stop', '-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30'];
    const [file, argv] = this.osUser ? ['runuser', ['-u', this.osUser.name, '--', this.pgCtl, ...args]] : [this.pgCtl, args];
    try {
      execFileSync(file, argv, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // Not running.
    }
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

  private async exec(command: string, args: string[]): Promise<void> {
    const [file, argv] = this.osUser ? ['runuser', ['-u', this.osUser.name, '--', command, ...args]] : [command, args];
    try {
      await run(file, argv, { timeout: 90_000, cwd: this.root });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`${command.split('/').pop()} ${args[0]} failed: ${(stderr || stdout || String(error)).trim()}\n${this.logTail(1_500)}`, { cause: error });
    }
  }
}
