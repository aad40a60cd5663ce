// The `socket` that req/res expose: one per connection, shared by every request on it, as node's
// net.Socket is. There is no net.Socket on the fast path: the engine owns the connection. This
// light stand-in answers what Express, Fastify, on-finished and graceful-shutdown code read
// (addresses, `encrypted`, `destroyed`, 'close'/'timeout' events) and maps the actions that make
// sense (destroy, end, pause/resume, timeouts) onto the engine's connection. Request bodies are
// fed per request (request.ts), not through the socket.
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { AbortReason, binding, type SocketInfo } from '../src/engine/binding';
import { NODE_HIGH_WATER_MARK } from './node-internals';

/**
 * The members of EventEmitter the class inherits at run time (see the end of the file); its
 * constructor is not run: EventEmitter makes `_events` on the first listener.
 */
export interface PyreSocket extends EventEmitter, InertSocketMethods {}

/** net.Socket's tuning calls, which mean nothing here: the engine owns the socket (`noDelay` is a server option). */
export interface InertSocketMethods {
  setNoDelay(): this;
  setKeepAlive(): this;
  ref(): this;
  unref(): this;
}

function returnThis<T>(this: T): T {
  return this;
}

/** Put on the prototypes of both socket classes (this one and upgrade-socket.ts's). */
export const inertSocketMethods: InertSocketMethods = { setNoDelay: returnThis, setKeepAlive: returnThis, ref: returnThis, unref: returnThis };

/** net.Socket#address(): the local end. */
export function socketAddress(info: SocketInfo): { address: string; family: string; port: number } | Record<string, never> {
  const { localAddress, remoteFamily, localPort } = info;
  // A unix socket connection has no addresses: node's address() is then {}.
  if (localAddress === undefined || remoteFamily === undefined || localPort === undefined) return {};
  return { address: localAddress, family: remoteFamily, port: localPort };
}

/** As node's socket.setTimeout(ms, callback): the callback listens once, or stops listening with 0. */
export function timeoutListener(socket: EventEmitter, ms: number, callback: (() => void) | undefined): void {
  if (callback === undefined) return;
  if (ms === 0) socket.removeListener('timeout', callback);
  else socket.once('timeout', callback);
}

/** node's error for a connection the peer reset. */
export function connectionReset(): Error {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });
}

/** What socket.write() takes. */
type RawData = string | Uint8Array;

export class PyreSocket {
  readable = true;
  writable = true;
  destroyed = false;
  /** Node's response currently owning the socket (on-finished and shutdown helpers read it); null between requests. */
  _httpMessage: (EventEmitter & { shouldKeepAlive?: boolean; headersSent?: boolean }) | null = null;
  /** The latest request on the connection (node's parser.incoming): told of timeouts while incomplete. */
  request: IncomingMessage | null = null;
  /** The inactivity timeout set by setTimeout() (or the server's `timeout`), ms; 0 = none. */
  timeout = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Requests on the connection whose responses are not complete. */
  private unanswered = 0;
  private info: SocketInfo | null = null;
  /** A 'clientError' listener is choosing a refused request's answer: raw writes are that answer. */
  private answering = false;

  constructor(
    /** The engine's token for the connection itself (see binding.ts connectionToken). */
    private readonly token: number,
    readonly server: EventEmitter & { rejectNonStandardBodyWrites?: boolean },
  ) {}

  // Constant for every socket here, so they live on the prototype (see the end of the file).
  declare readonly encrypted: boolean;
  /** As net.Socket's: end() was called, or node's server would have called it (a last response is done). */
  declare writableEnded: boolean;
  declare readonly writableLength: number;
  declare readonly writableCorked: number;
  declare readonly readableHighWaterMark: number;
  declare readonly writableHighWaterMark: number;
  /** Node's server pauses a socket under pipelining; IncomingMessage._read checks it. */
  declare readonly _paused: boolean;

  /** Addresses, asked of the engine once (node caches them too). */
  private get addresses(): SocketInfo {
    if (this.info === null) this.info = binding.socketInfo(this.token);
    return this.info;
  }
  get remoteAddress(): string | undefined {
    return this.addresses.remoteAddress;
  }
  // A unix socket connection has none of these, as in node.
  get remotePort(): number | undefined {
    return this.addresses.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.addresses.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.addresses.localAddress;
  }
  get localPort(): number | undefined {
    return this.addresses.localPort;
  }
  address(): ReturnType<typeof socketAddress> {
    return socketAddress(this.addresses);
  }

  /** As net.Socket's: bytes written on the connection, those still buffered included. */
  get bytesWritten(): number {
    return binding.bytesWritten(this.token);
  }

  /** Stop reading the connection (request bodies flow again when their stream is read). */
  pause(): this {
    if (!this.destroyed) binding.pause(this.token);
    return this;
  }

  resume(): this {
    if (!this.destroyed) binding.resume(this.token);
    return this;
  }

  /** Closes the connection at once, as net.Socket#destroy does; its unfinished request aborts. 'close' follows. */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
    binding.destroy(this.token);
    // node's server listens for socket errors itself; here an unheard one must not crash the process.
    if (error && this.listenerCount('error') > 0) process.nextTick(() => this.emit('error', error));
    return this;
  }

  /**
   * Half-close: no more requests are read, and the connection closes once the responses owed
   * are sent (a response not yet started says `Connection: close`); after raw bytes (see
   * write) it closes once they are sent. Data given is written first, as by write().
   */
  end(data?: RawData | (() => void), encoding?: BufferEncoding | (() => void), callback?: () => void): this {
    if (typeof data === 'function') [callback, data] = [data, undefined];
    if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined];
    if (!this.writable) return this;
    if (data !== undefined) this.write(data, encoding);
    this.writable = false;
    this.writableEnded = true;
    const response = this._httpMessage;
    if (response !== null && !response.headersSent) response.shouldKeepAlive = false;
    binding.endConnection(this.token);
    if (callback) process.nextTick(callback);
    return this;
  }

  /**
   * Raw bytes, sent as-is now, as node's socket sends them: after what is already on its way,
   * before the responses still to come. A whole interim response (`HTTP/1.1 1xx`) changes
   * nothing; any other bytes make the connection the application's (Fastify's reply.hijack()
   * pattern): no more requests are read on it, and it closes after the current response or when
   * the socket is ended. A 'clientError' listener's writes are the refused request's answer;
   * after end() or a refusal, write() is a no-op.
   */
  write(data: RawData, encoding?: BufferEncoding | ((error?: Error) => void), callback?: (error?: Error) => void): boolean {
    if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined];
    if (!this.writable) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : data;
    if (!this.answering) {
      this.active();
      binding.connectionWriteRaw(this.token, bytes);
    } else if (!binding.connectionWrite(this.token, bytes)) {
      // A fault in a request body: the engine has answered it already (see COMPAT.md).
      this.writable = false;
      return false;
    }
    if (callback) process.nextTick(callback);
    return true;
  }

  /**
   * node's socket.setTimeout: 'timeout' after `ms` without traffic (requests, body data, response
   * writes); 0 turns it off. Between requests the engine's keepAliveTimeout governs the
   * connection instead (node switches the socket's timeout to it there).
   */
  setTimeout(ms: number, callback?: () => void): this {
    this.timeout = ms > 0 && Number.isFinite(ms) ? ms : 0;
    timeoutListener(this, this.timeout, callback);
    this.stopIdleTimer();
    if (this.timeout > 0 && !this.destroyed) this.startIdleTimer();
    return this;
  }

  /** As on node's server sockets: the bytes of HTTP messages have no text encoding to choose. */
  setEncoding(): never {
    throw Object.assign(new Error('Changing the socket encoding is not allowed per RFC7230 Section 3.'), { code: 'ERR_HTTP_SOCKET_ENCODING' });
  }

  cork(): void {}
  uncork(): void {}

  /** @internal Traffic on the connection: the inactivity timeout starts over (re-armed if it had fired). */
  active(): void {
    if (this.idleTimer !== null) this.idleTimer.refresh();
  }

  /** @internal A request arrived: the inactivity timeout runs while it is answered. */
  requestStarted(): void {
    this.unanswered++;
    if (this.idleTimer !== null) this.idleTimer.refresh();
    else if (this.timeout > 0) this.startIdleTimer();
  }

  /** @internal A response on the connection is complete: it no longer owns the socket. */
  responded(response: EventEmitter & { _last: boolean }): void {
    if (this._httpMessage === response) this._httpMessage = null;
    // The connection closes after this response: node's server ends the socket here.
    if (response._last) {
      this.writable = false;
      this.writableEnded = true;
    }
    this.unanswered--;
    if (this.idleTimer === null) return;
    if (this.unanswered > 0) this.idleTimer.refresh();
    else this.stopIdleTimer();
  }

  /**
   * @internal The engine refused a request on this connection. While `listener` (the server's
   * 'clientError' listeners) runs, what is written to the socket is the answer; after it,
   * nothing more can be written.
   */
  refused(listener: () => void): void {
    this.answering = true;
    try {
      listener();
    } finally {
      this.answering = false;
      this.writable = false;
    }
  }

  /** @internal The engine aborted the connection's request: the connection is closing. */
  connectionLost(): void {
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
  }

  /**
   * @internal The engine reports the connection closed: 'close', once. A reset by the peer is
   * node's: an ECONNRESET 'error' first (when someone listens: node's server listens itself),
   * then 'close' with hadError.
   */
  connectionClosed(reason: AbortReason): void {
    this.connectionLost();
    this.stopIdleTimer();
    const reset = reason === AbortReason.Reset;
    process.nextTick(() => {
      if (reset && this.listenerCount('error') > 0) this.emit('error', connectionReset());
      this.emit('close', reset);
    });
  }

  private startIdleTimer(): void {
    this.idleTimer = setTimeout(() => this.timedOut(), this.timeout);
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
  }

  /** Node's http server on a socket timeout: tell the request, response and server; destroy if nobody listens. */
  private timedOut(): void {
    const request = this.request;
    const requestHeard = request !== null && !request.complete && request.emit('timeout', this);
    const response = this._httpMessage;
    const responseHeard = response !== null && response.emit('timeout', this);
    const serverHeard = this.server.emit('timeout', this);
    if (!requestHeard && !responseHeard && !serverHeard) this.destroy();
    this.emit('timeout');
  }
}

Object.setPrototypeOf(PyreSocket.prototype, EventEmitter.prototype);
Object.assign(PyreSocket.prototype, inertSocketMethods, {
  encrypted: false,
  writableEnded: false,
  writableLength: 0,
  writableCorked: 0,
  readableHighWaterMark: NODE_HIGH_WATER_MARK,
  writableHighWaterMark: NODE_HIGH_WATER_MARK,
  _paused: false,
});
