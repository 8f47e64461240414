// A loopback TCP proxy in front of the API server, for one operator process: tests make it stop
// answering (connections accepted, nothing forwarded) to play a network partition or a hung API
// server, without touching the server itself or any other client of it.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>();
  readonly #held = new Set<Socket>();
  #stalled = false;
  port = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.#server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    proxy.port = address.port;
    return proxy;
  }

  /** Open connections through the proxy (forwarding or frozen), plus accepted ones left hanging. */
  get connections(): number {
    return this.#pairs.size + this.#held.size;
  }

  #accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.#stalled) {
      // Accepted, never forwarded: the client's TLS handshake waits for an answer that never comes.
      client.pause();
      this.#held.add(client);
      client.once('close', () => this.#held.delete(client));
      return;
    }
    const upstream = createConnection(this.#target);
    const pair = { client, upstream };
    this.#pairs.add(pair);
    upstream.on('error', () => client.destroy());
    const close = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', close);
    upstream.once('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /**
   * Stops answering: open connections freeze (no byte forwarded either way, none closed) unless
   * `dropOpen` resets them, and new connections are accepted but never forwarded.
   */
  stall({ dropOpen = false }: { dropOpen?: boolean } = {}): void {
    this.#stalled = true;
    for (const pair of this.#pairs) {
      if (dropOpen) {
        pair.client.resetAndDestroy();
        continue;
      }
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.client.pause();
      pair.upstream.pause();
    }
  }

  /** Answers again: whatever hung is reset (its clients retry on fresh connections), new ones forward. */
  resume(): void {
    this.#stalled = false;
    for (const client of this.#held) client.resetAndDestroy();
    this.#held.clear();
    for (const pair of this.#pairs) pair.client.resetAndDestroy();
  }

  async close(): Promise<void> {
    this.resume();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
