import { once } from 'node:events';
import net from 'node:net';

/** A local TCP port nothing listens on right now (bound on 127.0.0.1, then released). */
export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
