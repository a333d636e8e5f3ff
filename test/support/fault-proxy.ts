import * as net from 'node:net';

/**
 * A TCP proxy that breaks the network on demand, put between a client and a real server: it cuts every
 * open connection (now, or once N bytes went from server to client), delays every chunk, or refuses new
 * connections. It knows nothing of gRPC: what the client sees is what a load balancer reset, a slow
 * link or a dead host would give it.
 */
export class FaultProxy {
  private server?: net.Server;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private refusing = false;
  private delayMs = 0;
  private cutAt?: number;
  private cutsLeft = 0;
  private cutEveryBytes?: number;
  /** Bytes the server sent to the client through this proxy. */
  bytesDown = 0;
  /** Connections accepted (refused ones included). */
  connections = 0;
  /** Times the proxy cut the open connections. */
  cuts = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts listening on a free port of 127.0.0.1; returns it. */
  async start(): Promise<number> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    return this.port;
  }

  get port(): number {
    return (this.server!.address() as net.AddressInfo).port;
  }

  private accept(client: net.Socket): void {
    this.connections++;
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk) => this.forward(chunk, upstream));
    upstream.on('data', (chunk) => {
      this.bytesDown += chunk.length;
      this.forward(chunk, client);
      if (this.cutAt !== undefined && this.bytesDown >= this.cutAt) this.cutNow();
    });
  }

  private forward(chunk: Buffer, to: net.Socket): void {
    if (this.delayMs > 0) setTimeout(() => to.writable && to.write(chunk), this.delayMs);
    else to.write(chunk);
  }

  /** Resets every open connection now (RST, as a crashed middlebox would). */
  cutNow(): void {
    this.cuts++;
    for (const { client, upstream } of [...this.pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
    this.cutAt = undefined;
    if (this.cutsLeft > 0 && this.cutEveryBytes !== undefined) {
      this.cutsLeft--;
      this.cutAt = this.bytesDown + this.cutEveryBytes;
    }
  }

  /** Cuts all connections each time another `bytes` went downstream, `times` times in all. */
  cutEvery(bytes: number, times: number): void {
    this.cutEveryBytes = bytes;
    this.cutsLeft = times - 1;
    this.cutAt = this.bytesDown + bytes;
  }

  /** Delays every chunk in both directions by `ms` (0: none). */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /** While on, new connections are reset as soon as they are accepted. */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  async close(): Promise<void> {
    this.cutAt = undefined;
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
