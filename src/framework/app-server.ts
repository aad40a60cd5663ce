// What app.listen() resolves to: the fast-path server, with a promise-based close().
import type { AddressInfo, NativeServer } from '../engine/server';

export class AppServer {
  constructor(readonly server: NativeServer) {}

  /** Where a TCP server listens (a unix socket server has `socketPath` instead). */
  address(): AddressInfo {
    const address = this.server.address();
    if (address === null) throw new Error('pyre: the server is closed');
    if (typeof address === 'string') throw new Error(`pyre: the server listens on the unix socket ${address} (socketPath)`);
    return address;
  }

  /** The unix domain socket's path, for a server listening on one; else null. */
  get socketPath(): string | null {
    const address = this.server.address();
    return typeof address === 'string' ? address : null;
  }

  /** Stops accepting; resolves once in-flight requests have finished and connections closed. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }
}
