// What app.listen() resolves to: the fast-path server, with a promise-based close().
import type { AddressInfo, NativeServer } from '../engine/server';

export class AppServer {
  constructor(readonly server: NativeServer) {}

  address(): AddressInfo {
    const address = this.server.address();
    if (address === null) throw new Error('pyre: the server is closed');
    return address as AddressInfo; // app.listen() binds a TCP port, never a path
  }

  /** Stops accepting; resolves once in-flight requests have finished and connections closed. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }
}
