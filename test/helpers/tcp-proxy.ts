import net from 'node:net';

/** Where a {@link TcpProxy} forwards to. */
export interface ProxyTarget {
  host: string;
  port: number;
}

/**
 * A TCP proxy on loopback in front of a real server (PostgreSQL, an HTTP peer),
 * for fault tests: point a client at {@link port} instead of the server, then
 * {@link cut} its connections (a reset, as in a failover), {@link refuse} new
 * ones (as while the server is down) and {@link restore} service. Bytes pass
 * through unchanged; nothing is mocked.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly open = new Set<net.Socket>();
  private listeningPort = 0;
  private onClientData: (() => void) | undefined;
  /** Client connections accepted since the proxy started. */
  accepted = 0;
  /** Connections reset by {@link cut} or {@link refuse}. */
  resets = 0;

  private constructor(private readonly target: ProxyTarget) {}

  /** Starts a proxy to `target` on a free loopback port. */
  static async start(target: ProxyTarget): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.listen(0);
    return proxy;
  }

  /** The proxy's port (the same across {@link refuse} and {@link restore}). */
  get port(): number {
    return this.listeningPort;
  }

  /** `url` (e.g. a `postgresql://` URL) with its host and port replaced by the proxy's. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.listeningPort);
    return u.toString();
  }

  /** Connections open through the proxy right now. */
  get connections(): number {
    return this.open.size / 2;
  }

  /**
   * Resets every open connection, both ways (TCP RST): clients see
   * `ECONNRESET` or "Connection terminated unexpectedly" mid-query. New
   * connections are still accepted.
   */
  cut(): void {
    for (const socket of this.open) {
      socket.resetAndDestroy();
      this.resets += 1;
    }
    this.open.clear();
  }

  /**
   * Resets every open connection the next time a client sends something (a
   * query, as a rule), right after passing it on: the client cannot tell whether
   * the server ran it. Resolves once done.
   */
  cutMidRequest(): Promise<void> {
    return new Promise((resolve) => {
      this.onClientData = () => {
        this.onClientData = undefined;
        this.cut();
        resolve();
      };
    });
  }

  /** Resets every open connection and stops accepting: new ones get `ECONNREFUSED` until {@link restore}. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.cut();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    if (!this.server) await this.listen(this.listeningPort);
  }

  /** Resets every connection and closes the port for good. */
  async stop(): Promise<void> {
    await this.refuse();
  }

  private async listen(port: number): Promise<void> {
    const server = net.createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.listeningPort = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  private pipe(client: net.Socket): void {
    this.accepted += 1;
    const upstream = net.connect(this.target.port, this.target.host);
    // After pipe's own listener (added below): the bytes are on their way when the hook runs.
    queueMicrotask(() => client.on('data', () => setImmediate(() => this.onClientData?.())));
    for (const [socket, peer] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.open.add(socket);
      socket.pipe(peer);
      // A reset on one side resets the other: the client sees what a dropped server connection looks like.
      socket.on('error', () => peer.destroy());
      socket.on('close', () => {
        this.open.delete(socket);
        peer.destroy();
      });
    }
  }
}
