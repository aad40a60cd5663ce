// Connections handed to a server with `server.emit('connection', socket)`: a net.Socket another
// server accepted, or any Duplex (how ws and proxies move a connection between servers, how test
// tools hand a stream to a server). The engine serves only the sockets it accepts itself, so these
// are served by node's own http server code, made once per Pyre server and never listening: its
// requests and other events are emitted on the Pyre server, with its listeners, so an
// application sees one server and every such connection behaves exactly as on node.
import type { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';

/** node's server class, taken before pyre-http/register puts Pyre's in its place. */
const NodeHttpServer = http.Server;

/** What node's server emits about its connections' requests. It answers some itself when nobody listens. */
const FORWARDED_EVENTS = ['checkContinue', 'checkExpectation', 'upgrade', 'connect', 'clientError', 'dropRequest', 'timeout'];

/** The Pyre server's settings node's server must share. */
export interface ServerSettings extends EventEmitter {
  keepAliveTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  timeout: number;
  maxHeadersCount: number | null;
  maxRequestsPerSocket: number;
}

export class ForeignConnections {
  private node: http.Server | null = null;

  constructor(private readonly server: ServerSettings, private readonly options: http.ServerOptions) {}

  /** Serves `socket` as node's server would. */
  serve(socket: Duplex): void {
    (this.node ?? this.start()).emit('connection', socket);
  }

  /** A listener for `event` was added to the Pyre server: node's must now emit it too. */
  listenerAdded(event: string | symbol): void {
    if (this.node !== null && typeof event === 'string' && FORWARDED_EVENTS.includes(event) && this.node.listenerCount(event) === 0) {
      this.forward(this.node, event);
    }
  }

  closeIdle(): void {
    this.node?.closeIdleConnections();
  }

  closeAll(): void {
    this.node?.closeAllConnections();
  }

  private start(): http.Server {
    const { server } = this;
    const node = new NodeHttpServer(this.options);
    Object.assign(node, {
      keepAliveTimeout: server.keepAliveTimeout,
      headersTimeout: server.headersTimeout,
      requestTimeout: server.requestTimeout,
      timeout: server.timeout,
      maxHeadersCount: server.maxHeadersCount,
      maxRequestsPerSocket: server.maxRequestsPerSocket,
    });
    this.forward(node, 'request');
    // Only events someone listens for: without a listener node's server answers them itself.
    for (const event of FORWARDED_EVENTS) if (server.listenerCount(event) > 0) this.forward(node, event);
    this.node = node;
    return node;
  }

  private forward(node: http.Server, event: string): void {
    node.on(event, (...args: unknown[]) => this.server.emit(event, ...args));
  }
}
