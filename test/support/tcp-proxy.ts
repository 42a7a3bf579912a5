import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy a test owns, to break one client's link to a server (RabbitMQ) without touching
 * anybody else's connections (never `rabbitmqctl close_all_connections`). `cut()` resets every proxied
 * connection and refuses new ones until `restore()`. With `tls`, it terminates TLS and forwards plain
 * TCP, which lets a test exercise amqps:// against the plain broker.
 */

export interface TcpProxyOptions {
  targetHost?: string;
  targetPort: number;
  /** Serve TLS with this key/cert (PEM) and forward the decrypted stream. */
  tls?: { key: Buffer | string; cert: Buffer | string };
}

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted and forwarded so far. */
  readonly accepted: number;
  /** Connections refused while the link was down. */
  readonly refused: number;
  /** Connections currently open. */
  readonly open: number;
  readonly isDown: boolean;
  /** Resets every open connection and refuses new ones until restore(). Returns how many were cut. */
  cut(): number;
  restore(): void;
  /** Resolves when at least `count` connections are open (polls the proxy's own state). */
  waitForOpen(count?: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A reset (RST), like a dropped link, rather than a polite FIN; TLS sockets cannot be reset, only destroyed. */
function reset(socket: net.Socket): void {
  try {
    if (socket instanceof tls.TLSSocket) socket.destroy();
    else socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let down = false;
  let accepted = 0;
  let refused = 0;
  const waiters = new Set<() => void>();

  const onClient = (client: net.Socket): void => {
    if (down) {
      refused += 1;
      reset(client);
      return;
    }
    accepted += 1;
    const upstream = net.connect({ host: targetHost, port: options.targetPort });
    const pair = { client, upstream };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
    for (const w of waiters) w();
  };

  const server = options.tls
    ? tls.createServer({ key: options.tls.key, cert: options.tls.cert }, onClient)
    : net.createServer(onClient);
  // A TLS client that rejects our certificate aborts the handshake: not an error of the proxy.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const proxy: TcpProxy = {
    port,
    get accepted() {
      return accepted;
    },
    get refused() {
      return refused;
    },
    get open() {
      return pairs.size;
    },
    get isDown() {
      return down;
    },
    cut() {
      down = true;
      const n = pairs.size;
      for (const { client, upstream } of [...pairs]) {
        reset(client);
        upstream.destroy();
      }
      pairs.clear();
      return n;
    },
    restore() {
      down = false;
    },
    waitForOpen(count = 1, timeoutMs = 15000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (pairs.size >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${pairs.size}/${count} proxied connection(s) after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
