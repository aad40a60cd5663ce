// The `socket` that req/res expose. There is no net.Socket on the fast path: the engine owns the
// connection. This light stand-in answers what Express, Fastify, on-finished and body parsers
// read (addresses, `encrypted`, `destroyed`, 'close'/'error' events, pause/resume for request
// bodies) and maps the few actions that make sense (destroy, end, timeouts) onto the exchange.
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Exchange } from '../src/engine/exchange';
import type { SocketInfo } from '../src/engine/binding';
import { type IncomingInternals, NODE_HIGH_WATER_MARK } from './node-internals';

/**
 * The members of EventEmitter the class inherits at run time (see the end of the file); its
 * constructor is not run: EventEmitter makes `_events` on the first listener.
 */
export interface PyreSocket extends EventEmitter {}

/** net.Socket#address(): the local end. */
export function socketAddress(info: SocketInfo): { address: string; family: string; port: number } | Record<string, never> {
  const { localAddress, remoteFamily, localPort } = info;
  // A unix socket connection has no addresses: node's address() is then {}.
  if (localAddress === undefined || remoteFamily === undefined || localPort === undefined) return {};
  return { address: localAddress, family: remoteFamily, port: localPort };
}

export class PyreSocket {
  readable = true;
  writable = true;
  destroyed = false;
  /** Node's response currently owning the socket (on-finished and others read it). */
  _httpMessage: object | null = null;
  /** The inactivity timeout asked for by setTimeout(); the engine's own timeouts enforce the limits. */
  timeout = 0;
  /** Request body chunks flow once someone reads: see IncomingMessage._read → resume(). */
  private reading = false;
  private closeEmitted = false;
  /** The request whose body this socket feeds. */
  request: IncomingMessage | null = null;

  constructor(
    private readonly exchange: Exchange,
    readonly server: EventEmitter,
  ) {}

  // Constant for every socket here, so they live on the prototype (see the end of the file).
  declare readonly encrypted: boolean;
  declare readonly writableLength: number;
  declare readonly writableCorked: number;
  declare readonly readableHighWaterMark: number;
  declare readonly writableHighWaterMark: number;
  /** Node's server pauses a socket under pipelining; IncomingMessage._read checks it. */
  declare readonly _paused: boolean;

  private get info(): SocketInfo {
    return this.exchange.socket();
  }
  get remoteAddress(): string | undefined {
    return this.info.remoteAddress;
  }
  // A unix socket connection has none of these, as in node.
  get remotePort(): number | undefined {
    return this.info.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.info.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.info.localAddress;
  }
  get localPort(): number | undefined {
    return this.info.localPort;
  }
  address(): { address: string; family: string; port: number } | Record<string, never> {
    return socketAddress(this.info);
  }

  /** Start or continue the request body's flow (IncomingMessage._read calls this). */
  resume(): this {
    if (!this.reading) {
      this.reading = true;
      this.exchange.ondata = (chunk) => this.deliverBody(chunk);
      this.exchange.onend = () => this.deliverEnd();
    } else {
      this.exchange.resume();
    }
    return this;
  }

  private deliverBody(chunk: Buffer): void {
    // A full request buffer stops the connection; IncomingMessage._read resumes it.
    if (this.request !== null && !this.request.push(chunk)) this.exchange.pause();
  }

  private deliverEnd(): void {
    const request = this.request;
    if (request === null) return;
    request.complete = true;
    const trailers = this.exchange.rawTrailers();
    if (trailers.length > 0) (request as IncomingMessage & IncomingInternals)._addHeaderLines(trailers, trailers.length);
    request.push(null);
  }

  /** Stop reading the request body (the request's buffer is full). */
  pause(): this {
    this.exchange.pause();
    return this;
  }

  /** Closes the connection at once, as net.Socket#destroy does. */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
    this.exchange.destroy();
    if (error) process.nextTick(() => this.emit('error', error));
    this.emitClose();
    return this;
  }

  /** Half-close: the response finishes and the connection closes after it. */
  end(): this {
    const response = this._httpMessage as { shouldKeepAlive?: boolean; finished?: boolean } | null;
    if (response && !response.finished) response.shouldKeepAlive = false;
    else this.destroy();
    return this;
  }

  /** The engine writes framed responses only; raw bytes would corrupt the framing. */
  write(): boolean {
    throw new Error('pyre: raw socket writes are not supported; write through the response object');
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.timeout = ms;
    if (callback) this.once('timeout', callback);
    return this;
  }

  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  cork(): void {}
  uncork(): void {}

  /** @internal The engine reported the connection gone. */
  connectionLost(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
    this.emitClose();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    process.nextTick(() => this.emit('close', false));
  }
}

Object.setPrototypeOf(PyreSocket.prototype, EventEmitter.prototype);
Object.assign(PyreSocket.prototype, {
  encrypted: false,
  writableLength: 0,
  writableCorked: 0,
  readableHighWaterMark: NODE_HIGH_WATER_MARK,
  writableHighWaterMark: NODE_HIGH_WATER_MARK,
  _paused: false,
});
