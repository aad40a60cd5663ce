// The fast-path server: binds the engine to a handler that receives one Exchange per request.
import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { getSystemErrorMap, promisify } from 'node:util';
import { type AbortReason, binding, COMMON_METHODS, type ConnectionEvents, type ListenResult, type NativeCallbacks, RequestFlags } from './binding';
import { Exchange } from './exchange';
import { takeInheritedListener } from './inherited-listener';
import { type EngineOptions, resolveLimits } from './options';

export type Handler = (exchange: Exchange) => void | Promise<void>;

export interface ListenOptions {
  port?: number;
  /** Default '::' (dual-stack, so 127.0.0.1 and ::1 both reach it), or 0.0.0.0 where IPv6 is off. */
  host?: string;
  backlog?: number;
  ipv6Only?: boolean;
  /**
   * SO_REUSEPORT: share the port with other sockets that set it, the kernel spreading new
   * connections between them. Default: true in a cluster worker (unless `exclusive`), else false.
   */
  reusePort?: boolean;
  /** In a cluster worker: do not share the port with the other workers (node's meaning). */
  exclusive?: boolean;
}

export interface UnixListenOptions {
  /** A socket file path, or on Linux an abstract socket name starting with '\0'. */
  path: string;
  backlog?: number;
  /** Give every user read (readableAll) or write (writableAll) permission on the socket file. */
  readableAll?: boolean;
  writableAll?: boolean;
}

/** node's listen(handle) form: a socket this process was handed already bound and listening. */
export interface FdListenOptions {
  fd: number;
}

export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** Hears of the connection events a server watches (see NativeServer.watchConnections). */
export interface ConnectionObserver {
  /** A connection was accepted; `connection` is the id Exchange.connection gives its requests. */
  connectionOpened(connection: number): void;
  /** A connection closed (after its unfinished exchanges heard onabort); `reason` says why. */
  connectionClosed(connection: number, reason: AbortReason): void;
  /** The engine refused a request on the connection and has answered it itself (see binding.ts onClientError). */
  clientError(connection: number, code: string, reason: string, rawPacket: Buffer): void;
}

export interface NativeServerOptions extends EngineOptions {
  /** @internal Native router id (the framework's route table). */
  router?: number;
}

/** @internal Servers listening, or closed but with connections left: what `pyre serve` drains. */
export const openServers = new Set<NativeServer>();

/**
 * Events: 'listening', 'close' (stopped listening and every connection is gone),
 * 'handlerError' (err, exchange) when a handler throws or rejects.
 */
export class NativeServer extends EventEmitter {
  private readonly id: number;
  private readonly live = new Map<number, Exchange>();
  private bound: AddressInfo | string | null = null;
  private closing = false;
  private observer: ConnectionObserver | null = null;
  /** @internal */
  readonly highWaterMark: number;
  /**
   * @internal The server object the user holds when it wraps this one (the drop-in's Server):
   * a close from outside (a cluster worker's disconnect, `pyre serve`'s drain) goes through its
   * close(), which does its own part of the drain.
   */
  owner: { close(): unknown } | null = null;
  /**
   * @internal How long close() lets an idle keep-alive connection answered just before it bring
   * the request its client may be writing (answered with Connection: close). Short, because a
   * client that is merely idle holds 'close' back this long; `pyre serve` drains with a second.
   */
  closeGraceMs = 100;
  /**
   * @internal A handler's throw becomes an uncaught exception (the process's 'uncaughtException';
   * the request stays unanswered), as node's own server leaves it, instead of a 500. The
   * drop-in sets it; the fast path and the framework contain errors.
   */
  uncaughtErrors = false;

  constructor(private readonly handler: Handler, options: NativeServerOptions = {}) {
    super();
    if (typeof handler !== 'function') {
      throw Object.assign(new TypeError(`The "handler" argument must be of type function. Received ${typeof handler}`), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    const limits = resolveLimits(options, options.router ?? -1);
    this.highWaterMark = limits.highWaterMark;
    this.id = binding.serverCreate(limits, this.callbacks());
  }

  get listening(): boolean {
    return this.bound !== null;
  }

  /**
   * Binds synchronously (address() is valid on return); 'listening' is emitted on the next tick.
   * A unix socket path returns the path; the socket file is removed again by close().
   */
  listen(options: UnixListenOptions): string;
  listen(options?: ListenOptions | FdListenOptions): AddressInfo;
  listen(options: ListenOptions | UnixListenOptions | FdListenOptions): AddressInfo | string;
  listen(options: ListenOptions | UnixListenOptions | FdListenOptions = {}): AddressInfo | string {
    if (this.bound) throw Object.assign(new Error('Listen method has been called more than once without closing.'), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    const bound = 'path' in options ? this.bindPath(options) : 'fd' in options ? this.adopt(options.fd) : this.bindPort(options);
    this.bound = bound;
    this.closing = false;
    openServers.add(this);
    if (cluster.worker) this.closeWhenWorkerDisconnects(cluster.worker);
    process.nextTick(() => this.emit('listening'));
    return bound;
  }

  /**
   * A cluster worker's disconnect() closes its servers so the worker can exit, as node does for
   * the servers it shares through the primary; this one node does not know of.
   */
  private closeWhenWorkerDisconnects(worker: NonNullable<typeof cluster.worker>): void {
    const close = (): void => {
      if (this.listening) this.shutDown();
    };
    worker.once('disconnect', close);
    this.once('close', () => worker.off('disconnect', close));
  }

  private bindPort(options: ListenOptions): AddressInfo {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw Object.assign(new RangeError(`options.port should be >= 0 and < 65536. Received ${String(port)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
    }
    const inherited = takeInheritedListener({ host: options.host, port });
    if (inherited !== undefined) return this.adopt(inherited) as AddressInfo;
    const host = options.host ?? '::';
    // Under cluster every worker binds the shared port itself, as node's workers share one.
    const reusePort = options.reusePort ?? (cluster.isWorker && !options.exclusive);
    try {
      const result = binding.serverListen(this.id, host, port, options.backlog ?? 511, options.ipv6Only ?? false, reusePort);
      return { address: result.address, family: result.family, port: result.port };
    } catch (err) {
      throw listenError(err, host, port);
    }
  }

  /** Serves a listening socket this process was handed; for a unix socket the address is ''. */
  private adopt(fd: number): AddressInfo | string {
    if (!Number.isInteger(fd) || fd < 0) {
      throw Object.assign(new RangeError(`options.fd must be a non-negative integer. Received ${String(fd)}.`), { code: 'ERR_OUT_OF_RANGE' });
    }
    try {
      const result = binding.serverListenFd(this.id, fd);
      return result === undefined ? '' : { address: result.address, family: result.family, port: result.port };
    } catch (err) {
      throw listenError(err, `fd ${fd}`);
    }
  }

  private bindPath(options: UnixListenOptions): string {
    const { path } = options;
    if (typeof path !== 'string' || path === '') {
      throw Object.assign(new TypeError(`options.path must be a non-empty string. Received ${typeof path}.`), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    const inherited = takeInheritedListener({ path });
    if (inherited !== undefined) {
      this.adopt(inherited);
      return path;
    }
    try {
      binding.serverListenUnix(this.id, Buffer.from(path), options.backlog ?? 511, options.readableAll ?? false, options.writableAll ?? false);
      return path;
    } catch (err) {
      const error = listenError(err, path) as NodeJS.ErrnoException;
      // Node on Windows takes a path for a named pipe, which the engine cannot poll (docs/ARCHITECTURE.md, "Platforms").
      if (process.platform === 'win32' && error.code === 'ENOTSUP') {
        error.message += ' (Pyre on Windows serves TCP only, not named pipes or unix domain sockets: listen on a TCP port, e.g. { port: 8080, host: \'127.0.0.1\' })';
      }
      throw error;
    }
  }

  /** `{ address, family, port }`, or the path of a unix socket; null when not listening. */
  address(): AddressInfo | string | null {
    return this.bound;
  }

  /** Stop accepting; in-flight exchanges finish, idle keep-alive connections close. 'close' follows when none is left. */
  close(callback?: (err?: Error) => void): this {
    if (callback) {
      if (this.bound === null && !this.closing) {
        process.nextTick(callback, Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' }));
        return this;
      }
      this.once('close', callback);
    }
    if (this.bound === null) return this;
    this.bound = null;
    this.closing = true;
    binding.serverStopListening(this.id, this.closeGraceMs);
    binding.serverCloseIdle(this.id);
    return this;
  }

  /** @internal close() as the user would call it (through the owner, if any). */
  shutDown(): void {
    if (this.owner === null) this.close();
    else this.owner.close();
  }

  closeIdleConnections(): void {
    binding.serverCloseIdle(this.id);
  }

  closeAllConnections(): void {
    binding.serverCloseAll(this.id);
  }

  /** As node's server.unref(): the listening socket no longer keeps the process alive (open connections still do). */
  unref(): this {
    binding.serverRef(this.id, false);
    return this;
  }

  /** Undoes unref(). */
  ref(): this {
    binding.serverRef(this.id, true);
    return this;
  }

  /** `await using server = serve(...)`: close() (idle connections at once, busy ones after their response). */
  [Symbol.asyncDispose](): Promise<void> {
    return promisify(this.close).call(this);
  }

  get connections(): number {
    return binding.serverConnectionCount(this.id);
  }

  /** Requests whose response is not complete yet (a handler still at work, or streaming). */
  get requestsInFlight(): number {
    return this.live.size;
  }

  /** Change limits and timeouts; they apply to requests that start afterwards. */
  setOptions(options: NativeServerOptions): void {
    binding.serverSetLimits(this.id, resolveLimits(options, options.router ?? -1));
  }

  /**
   * Hear of connection events (ConnectionEvents bits; replaces the previous choice). Off by
   * default: each event costs a call into JavaScript per connection.
   */
  watchConnections(events: ConnectionEvents, observer: ConnectionObserver): void {
    this.observer = observer;
    binding.serverWatch(this.id, events);
  }

  /** @internal The exchange hears from the engine again (a raw exchange, from its switch on). */
  track(token: number, exchange: Exchange): void {
    this.live.set(token, exchange);
  }

  /** @internal The exchange's response is complete: the engine sends nothing more for it. */
  release(token: number): void {
    this.live.delete(token);
  }

  private dispatch(exchange: Exchange): void {
    let result: void | Promise<void>;
    try {
      result = this.handler(exchange);
    } catch (err) {
      if (this.uncaughtErrors) process.nextTick(rethrow, err);
      else this.failed(exchange, err);
      return;
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(undefined, (err: unknown) => this.failed(exchange, err));
    }
  }

  /** A handler threw: answer 500 if nothing was sent yet, else cut the connection. Logged once. */
  private failed(exchange: Exchange, err: unknown): void {
    if (this.listenerCount('handlerError') > 0) this.emit('handlerError', err, exchange);
    else console.error('pyre: unhandled error in request handler:', err);
    if (exchange.finished) return;
    if (exchange.headersSent) exchange.destroy();
    else exchange.respond(500, 'Internal Server Error', { 'content-type': 'text/plain; charset=utf-8' });
  }

  private callbacks(): NativeCallbacks {
    const live = this.live;
    return {
      onRequest: (token, method, url, flags, route = -1, count = 0, p0, p1, p2, p3) => {
        const params = route >= 0 ? paramsOf(count, p0, p1, p2, p3) : undefined;
        const code = (flags & RequestFlags.MethodMask) >> RequestFlags.MethodShift;
        const exchange = new Exchange(token, code === 0 ? (method as string) : COMMON_METHODS[code], url, flags, route, params, this);
        this.dispatch(exchange);
        // Only exchanges that will hear from the engine again are tracked.
        if (!exchange.finished) {
          exchange.tracked = true;
          live.set(token, exchange);
        }
      },
      onData: (token, chunk) => live.get(token)?.deliver(chunk),
      onEnd: (token) => live.get(token)?.deliverEnd(),
      onAbort: (token, reason: AbortReason) => {
        const exchange = live.get(token);
        live.delete(token);
        exchange?.deliverAbort(reason);
      },
      onDrain: (token) => live.get(token)?.ondrain?.(),
      onIdle: () => {
        if (this.closing) {
          this.closing = false;
          openServers.delete(this);
          process.nextTick(() => this.emit('close'));
        }
      },
      onConnection: (connection) => this.observer?.connectionOpened(connection),
      onConnectionClose: (connection, reason) => this.observer?.connectionClosed(connection, reason),
      onClientError: (connection, code, reason, rawPacket) => this.observer?.clientError(connection, code, reason, rawPacket),
    };
  }
}

function rethrow(err: unknown): never {
  throw err;
}

/** Route parameters as the engine passes them: inline up to four, else one array. */
function paramsOf(count: number, p0: unknown, p1: unknown, p2: unknown, p3: unknown): unknown[] {
  switch (count) {
    case 0: return [];
    case 1: return [p0];
    case 2: return [p0, p1];
    case 3: return [p0, p1, p2];
    case 4: return [p0, p1, p2, p3];
    default: return p0 as unknown[];
  }
}

/**
 * @internal A bind/listen failure as node reports it: `listen EADDRINUSE: address already in use :::8080`,
 * or for a unix socket (no port) `... /run/app.sock`.
 */
export function listenError(err: unknown, address: string, port?: number): Error {
  const errno = (err as { errno?: number }).errno;
  if (typeof errno !== 'number') return err as Error;
  const [code, description] = getSystemErrorMap().get(errno) ?? ['UNKNOWN', 'unknown error'];
  const syscall = (err as { syscall?: string }).syscall === 'bind' ? 'listen' : String((err as { syscall?: string }).syscall);
  // As node: the port only when there is one to name (not for port 0 or a unix socket).
  const where = port === undefined || port <= 0 ? address : `${address}:${port}`;
  return Object.assign(new Error(`${syscall} ${code}: ${description} ${where}`), { code, errno, syscall, address }, port === undefined ? {} : { port });
}

/** Start a fast-path server: `serve(handler)` or `serve(options, handler)`; call `listen()` on it. */
export function serve(handler: Handler): NativeServer;
export function serve(options: NativeServerOptions, handler: Handler): NativeServer;
export function serve(a: Handler | NativeServerOptions, b?: Handler): NativeServer {
  return typeof a === 'function' ? new NativeServer(a) : new NativeServer(b as Handler, a);
}
