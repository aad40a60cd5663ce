// node:http's Server API over the engine's NativeServer.
import { lookup } from 'node:dns';
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { type AbortReason, ConnectionEvents, connectionToken } from '../src/engine/binding';
import type { Exchange } from '../src/engine/exchange';
import type { EngineOptions } from '../src/engine/options';
import { type AddressInfo, type ConnectionObserver, NativeServer } from '../src/engine/server';
import type { Duplex } from 'node:stream';
import { clientError } from './client-error';
import { ForeignConnections } from './foreign-connections';
import { type ListenCall, parseListenArguments } from './listen-arguments';
import { ListenerPrototypes } from './app-prototypes';
import { PyreIncomingMessage, type RequestOptions } from './request';
import { PyreSocket } from './socket';
import { UpgradeSocket } from './upgrade-socket';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The options of node's http.createServer that mean something here. */
export interface ServerOptions {
  keepAliveTimeout?: number;
  headersTimeout?: number;
  requestTimeout?: number;
  maxHeaderSize?: number;
  noDelay?: boolean;
  /** Bytes of unsent output per connection before writes report backpressure (the engine's highWaterMark). */
  highWaterMark?: number;
  requireHostHeader?: boolean;
  joinDuplicateHeaders?: boolean;
  maxHeadersCount?: number | null;
  /** node's: take control characters in header values (and any Host); the framing rules stay. */
  insecureHTTPParser?: boolean;
  /** node's: write() or end(data) on a response that may have no body (HEAD, 1xx, 204, 304) throws. */
  rejectNonStandardBodyWrites?: boolean;
}

/** node's `--insecure-http-parser` flag, on the command line or in NODE_OPTIONS. */
function insecureParserFlag(): boolean {
  const flag = '--insecure-http-parser';
  return process.execArgv.includes(flag) || (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes(flag);
}

/** Node's defaults (Node 20); headersTimeout defaults to the smaller of 60 s and requestTimeout. */
const NODE_DEFAULTS = { keepAliveTimeout: 5000, headersTimeout: 60_000, requestTimeout: 300_000, maxHeaderSize: 16384, maxHeadersCount: 2000 };

/** node's own http.Server, taken before pyre-http/register can replace the export. */
const NodeServer = http.Server;

/**
 * createServer's arguments go through node's own http.Server constructor first, so what it
 * refuses throws node's error (code, class and message); the server it made is closed at once.
 */
function validateLikeNode(options: unknown, listener: unknown): void {
  const probe = new NodeServer(options as http.ServerOptions, listener as RequestListener);
  probe.close(() => {});
}

/**
 * How long an idle keep-alive connection is really kept: node 20 closes it 1 s after the
 * timeout its responses announce, so a client reusing it right at the deadline is not reset.
 */
function keepAliveGrace(ms: number): number {
  return ms > 0 ? Math.min(ms + 1000, TIMEOUT_MAX) : 0;
}

/** The largest delay node's timers take (2^31 - 1 ms). */
const TIMEOUT_MAX = 2 ** 31 - 1;

/**
 * A timeout property set later, as node takes it (node stores any value and its timers make
 * sense of it): not a number or NaN means none (0), a fraction is cut off, and anything past
 * the largest timer delay (Infinity too) is that delay.
 */
function timeoutValue(ms: unknown): number {
  const value = Number(ms);
  if (!(value > 0)) return 0;
  return Math.min(Math.floor(value), TIMEOUT_MAX);
}

/**
 * The server's sockets, one per connection it has heard of, by connection id. The engine
 * reports every such connection's close, which lets its socket go: nothing is kept for
 * connections that are gone.
 */
class Sockets implements ConnectionObserver {
  private readonly open = new Map<number, PyreSocket>();
  /** The connection events asked of the engine. */
  private watching = ConnectionEvents.Close;

  constructor(private readonly server: Server, private readonly native: NativeServer) {
    native.watchConnections(this.watching, this);
  }

  /** Also hear of `events` from now on. */
  watch(events: ConnectionEvents): void {
    if ((this.watching & events) === events) return;
    this.watching |= events;
    this.native.watchConnections(this.watching, this);
  }

  /** The connection's socket, made the first time the server hears of the connection. */
  of(connection: number): PyreSocket {
    return this.open.get(connection) ?? this.add(connection);
  }

  // Out of line: of() runs per request, this once per connection, and code the optimizer has not
  // seen run would be deoptimized in of()'s callers the first time it does.
  private add(connection: number): PyreSocket {
    const socket = new PyreSocket(connectionToken(connection), this.server);
    this.open.set(connection, socket);
    socket.on('error', socketError);
    if (this.server.timeout > 0) socket.setTimeout(this.server.timeout);
    return socket;
  }

  connectionOpened(connection: number): void {
    this.server.emit('connection', this.of(connection));
  }

  connectionClosed(connection: number, reason: AbortReason): void {
    const socket = this.open.get(connection);
    if (socket === undefined) return;
    this.open.delete(connection);
    socket.connectionClosed(reason);
  }

  /**
   * The server is closing: a response already made but not yet started says `Connection: close`
   * (the engine closes its connection after it), as do those made from now on.
   */
  closing(): void {
    for (const socket of this.open.values()) {
      const response = socket._httpMessage;
      if (response !== null && !response.headersSent) response.shouldKeepAlive = false;
    }
  }

  clientError(connection: number, code: string, reason: string, rawPacket: Buffer): void {
    const socket = this.of(connection);
    const error = clientError(code, reason, rawPacket);
    if (this.server.listenerCount('clientError') > 0) {
      socket.refused(() => this.server.emit('clientError', error, socket));
    } else {
      // node answers, then destroys the socket with the error: a socket kept from 'connection'
      // hears it. The engine is closing the connection after its answer already.
      socket.writable = false;
      process.nextTick(() => socket.emit('error', error));
    }
  }
}

/**
 * Every connection's socket has node's own 'error' listener (so emitting 'error' on it does not
 * throw, and listenerCount('error') counts it as on node): a 'clientError' listener hears the
 * error, else the connection is destroyed, what was written still going out.
 */
function socketError(this: PyreSocket, error: Error): void {
  if (this.server.listenerCount('clientError') > 0) this.server.emit('clientError', error, this);
  else if (this.writable) this.destroy();
}

export class Server extends EventEmitter {
  private readonly native: NativeServer;
  private readonly engineOptions: EngineOptions;
  private readonly requestOptions: RequestOptions;
  /** The unix socket path listen() was last given (node's `_pipeName`). */
  private pipeName: string | null = null;
  private readonly sockets: Sockets;
  private idleTimeout = 0;
  /** node's option and property: a body written to a response that may have none throws. */
  rejectNonStandardBodyWrites: boolean;
  /** keepAliveTimeout as responses announce it (`Keep-Alive: timeout=N`). */
  private keepAliveAdvertised: number;
  /** The timeout properties as last set (node keeps any value there). */
  private readonly timeouts: { keepAliveTimeout: number; headersTimeout: number; requestTimeout: number };
  /** The prototypes req/res are made with: see app-prototypes.ts. */
  private readonly prototypes = new ListenerPrototypes();
  /** Sockets handed in with emit('connection'), served by node's own code. */
  private readonly foreign: ForeignConnections;

  constructor(options: ServerOptions = {}, listener?: RequestListener) {
    super();
    validateLikeNode(options, listener);
    const requestTimeout = options.requestTimeout ?? NODE_DEFAULTS.requestTimeout;
    const maxHeaderSize = options.maxHeaderSize || NODE_DEFAULTS.maxHeaderSize;
    this.rejectNonStandardBodyWrites = options.rejectNonStandardBodyWrites ?? false;
    const keepAliveTimeout = options.keepAliveTimeout ?? NODE_DEFAULTS.keepAliveTimeout;
    this.keepAliveAdvertised = keepAliveTimeout;
    this.engineOptions = {
      keepAliveTimeout: keepAliveGrace(keepAliveTimeout),
      headersTimeout: options.headersTimeout ?? Math.min(NODE_DEFAULTS.headersTimeout, requestTimeout),
      requestTimeout,
      maxHeaderSize,
      // node limits neither the target nor the number of fields on their own: the head's size is the bound.
      maxUrlLength: maxHeaderSize,
      maxHeaderCount: NODE_DEFAULTS.maxHeadersCount,
      noDelay: options.noDelay,
      highWaterMark: options.highWaterMark,
      requireHostHeader: options.requireHostHeader,
      forwardExpectations: true,
      nodeCompat: true,
      // As in node, the option wins over the flag.
      lenientHeaders: options.insecureHTTPParser ?? insecureParserFlag(),
    };
    this.timeouts = {
      keepAliveTimeout,
      headersTimeout: this.engineOptions.headersTimeout as number,
      requestTimeout,
    };
    this.requestOptions = {
      joinDuplicateHeaders: options.joinDuplicateHeaders ?? false,
      maxHeadersCount: options.maxHeadersCount ?? null,
    };
    this.native = new NativeServer((exchange) => this.handle(exchange), this.engineOptions);
    this.native.owner = this;
    this.native.uncaughtErrors = true;
    this.native.on('listening', () => this.emit('listening'));
    this.native.on('close', () => this.emit('close'));
    this.sockets = new Sockets(this, this.native);
    this.foreign = new ForeignConnections(this, {
      joinDuplicateHeaders: this.requestOptions.joinDuplicateHeaders,
      noDelay: options.noDelay,
      requireHostHeader: options.requireHostHeader,
      maxHeaderSize: options.maxHeaderSize,
      insecureHTTPParser: options.insecureHTTPParser,
      rejectNonStandardBodyWrites: options.rejectNonStandardBodyWrites,
    });
    this.on('newListener', (event: string | symbol, added: unknown) => {
      this.foreign.listenerAdded(event);
      if (event === 'request' || event === 'checkContinue') this.prototypes.added(added);
      // Sockets handed out on 'connection' hear of their refused requests, as node's do ('error').
      else if (event === 'connection') this.sockets.watch(ConnectionEvents.Accept | ConnectionEvents.ClientError);
      else if (event === 'clientError') this.sockets.watch(ConnectionEvents.ClientError);
      else if (event === 'connect' && !this.engineOptions.allowConnect) this.setEngineOption('allowConnect', true);
    });
    if (listener) this.on('request', listener);
  }

  // Per request, and at the edge of what TurboFan inlines into its caller together with the
  // req/res constructors: one more untaken branch here cost Fastify on Pyre ~1,000 instructions
  // per request (callgrind). Rare cases belong elsewhere (see maxRequestsPerSocket).
  private handle(exchange: Exchange): void {
    if (exchange.wantsUpgrade && this.upgrade(exchange)) return;
    const socket = this.sockets.of(exchange.connection);
    socket.requestStarted();
    const { Request, Response } = this.prototypes;
    const req = new Request(exchange, socket, this.requestOptions);
    const res = new Response(req, exchange, socket, this.keepAliveAdvertised);
    if (exchange.hasExpectation) this.expectation(exchange, req, res);
    else super.emit('request', req, res);
  }

  /**
   * As node's: emitting 'connection' with a socket the engine did not accept (a net.Socket from
   * another server, or any Duplex) serves it (see foreign-connections.ts).
   */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'connection' && !(args[0] instanceof PyreSocket) && args[0] !== undefined) this.foreign.serve(args[0] as Duplex);
    return super.emit(event, ...args);
  }

  /**
   * As node: `Expect: 100-continue` goes to 'checkContinue' listeners, or is answered
   * `100 Continue` at once and emitted as a 'request'; another expectation goes to
   * 'checkExpectation' listeners, or is answered 417 (node's bare one, the connection kept).
   */
  private expectation(exchange: Exchange, req: IncomingMessage, res: ServerResponse): void {
    if (exchange.expectsContinue) {
      if (this.listenerCount('checkContinue') > 0) return void this.emit('checkContinue', req, res);
      res.writeContinue();
      this.emit('request', req, res);
    } else if (this.listenerCount('checkExpectation') > 0) {
      this.emit('checkExpectation', req, res);
    } else {
      res.writeHead(417);
      res.end();
    }
  }

  /**
   * As node: an upgrade request is emitted as 'upgrade' (req, socket, head) when something listens
   * for it, and the listener owns the connection from then on; otherwise it is a 'request'.
   * One with a body stays a 'request' here (the body would become the raw stream's first bytes).
   * A CONNECT (the engine takes one only while 'connect' is listened for) is emitted as
   * 'connect'; with no listener left, its connection is closed, as node closes it.
   */
  private upgrade(exchange: Exchange): boolean {
    const tunnel = exchange.method === 'CONNECT';
    const event = tunnel ? 'connect' : 'upgrade';
    if (this.listenerCount(event) === 0) {
      if (!tunnel) return false;
      exchange.destroy();
      return true;
    }
    if (exchange.hasBody) return false;
    const socket = new UpgradeSocket(exchange, tunnel);
    const req = new PyreIncomingMessage(exchange, socket, this.requestOptions);
    req.upgrade = true;
    // As node: the bytes already read past the request are `head`; the socket's 'data' follows them.
    this.emit(event, req, socket, exchange.takeHeldInput());
    return true;
  }

  /**
   * listen(port?, host?, backlog?, cb?), listen(path, backlog?, cb?) or listen(options, cb?), as
   * node's. address() is valid on return.
   */
  listen(...args: unknown[]): this {
    const { options, callback } = parseListenArguments(args);
    if (callback) this.once('listening', callback);
    this.prototypes.setClosing(false);
    if ('host' in options && options.host !== undefined && isIP(options.host) === 0) {
      // A name is looked up first, as node does: its failure is node's 'error' (ENOTFOUND...).
      lookup(options.host, (err, address) => {
        if (err) this.emit('error', err);
        else this.bind({ ...options, host: address });
      });
      return this;
    }
    this.bind(options);
    return this;
  }

  private bind(options: ListenCall['options']): void {
    try {
      if ('path' in options) this.pipeName = options.path;
      this.native.listen(options);
    } catch (err) {
      // node reports bind failures (EADDRINUSE, EACCES) as an 'error' event, not a throw. The
      // engine's error already reads as node's; node gives a unix socket's errors port -1.
      if (typeof (err as { errno?: unknown }).errno !== 'number') throw err;
      const failure = 'path' in options ? Object.assign(err as Error, { port: -1 }) : err;
      process.nextTick(() => this.emit('error', failure));
    }
  }

  get listening(): boolean {
    return this.native.listening;
  }

  /** supertest and others look at `_handle` to see whether the server is bound. */
  get _handle(): object | null {
    return this.native.listening ? this.native : null;
  }

  /** As node's: a server that was given a unix socket path names it even when not listening. */
  address(): AddressInfo | string | null {
    return this.native.address() ?? this.pipeName;
  }

  /**
   * As node's: stop accepting, close idle connections. Unlike node's, every response finished
   * afterwards says `Connection: close` and its connection closes after it, so keep-alive
   * clients move on without a reset and the server's 'close' follows the last response.
   */
  close(callback?: (err?: Error) => void): this {
    const wasListening = this.native.listening;
    this.native.close(callback);
    this.foreign.closeIdle();
    if (wasListening) {
      this.prototypes.setClosing(true);
      this.sockets.closing();
    }
    return this;
  }

  closeAllConnections(): void {
    this.native.closeAllConnections();
    this.foreign.closeAll();
  }

  closeIdleConnections(): void {
    this.native.closeIdleConnections();
    this.foreign.closeIdle();
  }

  getConnections(callback: (err: Error | null, count: number) => void): this {
    const count = this.native.connections;
    process.nextTick(() => callback(null, count));
    return this;
  }

  /**
   * Node's server.timeout: each connection accepted afterwards gets `socket.setTimeout(timeout)`.
   * While it is set the engine reports every accepted connection, so a connection that never
   * sends a request times out too.
   */
  get timeout(): number {
    return this.idleTimeout;
  }
  set timeout(ms: number) {
    this.idleTimeout = ms;
    if (ms > 0) this.sockets.watch(ConnectionEvents.Accept);
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.timeout = ms;
    if (callback) this.on('timeout', callback);
    return this;
  }

  /** As node's: whether the listening socket keeps the process alive (open connections always do). */
  ref(): this {
    this.native.ref();
    return this;
  }
  unref(): this {
    this.native.unref();
    return this;
  }

  /** As node's: `await using server = createServer(...)` closes it (rejecting as close() does). */
  [Symbol.asyncDispose](): Promise<void> {
    return promisify(this.close).call(this);
  }

  // node's timeout properties keep whatever they are given; the engine gets timeoutValue()'s reading.
  get keepAliveTimeout(): number {
    return this.timeouts.keepAliveTimeout;
  }
  set keepAliveTimeout(ms: number) {
    this.setTimeoutProperty('keepAliveTimeout', ms);
  }
  get headersTimeout(): number {
    return this.timeouts.headersTimeout;
  }
  set headersTimeout(ms: number) {
    this.setTimeoutProperty('headersTimeout', ms);
  }
  get requestTimeout(): number {
    return this.timeouts.requestTimeout;
  }
  set requestTimeout(ms: number) {
    this.setTimeoutProperty('requestTimeout', ms);
  }

  private setTimeoutProperty(name: keyof Server['timeouts'], ms: number): void {
    this.timeouts[name] = ms;
    if (name !== 'keepAliveTimeout') return this.setEngineOption(name, timeoutValue(ms));
    this.keepAliveAdvertised = timeoutValue(ms);
    this.setEngineOption(name, keepAliveGrace(this.keepAliveAdvertised));
  }
  /**
   * node's: HTTP/1.1 requests one connection may carry (0: no limit). The engine counts them
   * (its maxRequestsPerConnection) and answers the last as one that asked to close; responses
   * say `Keep-Alive: timeout=N, max=M` as node's do.
   */
  get maxRequestsPerSocket(): number {
    return this.engineOptions.maxRequestsPerConnection ?? 0;
  }
  set maxRequestsPerSocket(limit: number) {
    const requests = typeof limit === 'number' && limit > 0 && Number.isFinite(limit) ? Math.floor(limit) : 0;
    this.setEngineOption('maxRequestsPerConnection', requests);
    this.prototypes.limitRequests(requests);
  }
  /**
   * node's (undocumented) switch: true keeps answering a client that has ended its side of the
   * connection after its requests. By default, as on node, the client's end aborts the requests
   * it has not been answered yet (their req 'aborted', res 'close').
   */
  get httpAllowHalfOpen(): boolean {
    return this.engineOptions.allowHalfOpen ?? false;
  }
  set httpAllowHalfOpen(allow: boolean) {
    this.setEngineOption('allowHalfOpen', Boolean(allow));
  }
  get maxHeadersCount(): number | null {
    return this.requestOptions.maxHeadersCount;
  }
  set maxHeadersCount(count: number | null) {
    this.requestOptions.maxHeadersCount = count;
  }

  /** Changes one engine option; the engine applies it to requests that start afterwards. */
  private setEngineOption<K extends keyof EngineOptions>(name: K, value: EngineOptions[K]): void {
    this.engineOptions[name] = value;
    this.native.setOptions(this.engineOptions);
  }
}

// node's own handling of a rejected async listener under `events.captureRejections`: a
// 'request' is answered 500 with its headers dropped (or cut once its head is out), any other
// event's rejection is an 'error'. It runs on our objects through node's methods.
const nodeRejection = (http.Server.prototype as unknown as Record<symbol, unknown>)[EventEmitter.captureRejectionSymbol];
Object.defineProperty(Server.prototype, EventEmitter.captureRejectionSymbol, { value: nodeRejection, writable: true, configurable: true });

/** node's http.createServer([options][, requestListener]), served by the engine. */
export function createServer(listener?: RequestListener): Server;
export function createServer(options: ServerOptions, listener?: RequestListener): Server;
export function createServer(a?: ServerOptions | RequestListener, b?: RequestListener): Server {
  return typeof a === 'function' ? new Server({}, a) : new Server(a ?? {}, b);
}
