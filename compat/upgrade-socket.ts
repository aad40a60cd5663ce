// The socket an 'upgrade' or 'connect' listener gets: a node:stream Duplex over the request's
// engine exchange, as much of a net.Socket as ws, proxies and raw upgrade handlers use. As on
// node, the listener writes the response head itself ("HTTP/1.1 101 Switching Protocols\r\n...",
// or "HTTP/1.1 200 Connection Established\r\n\r\n" for a tunnel). The first bytes written are
// read as that head and handed to the engine: a 101 (a 2xx to CONNECT) switches the connection
// to raw bytes both ways; any other status (a refused handshake) becomes an ordinary response,
// after which the connection closes, as node's would once the listener is done with it.
import { Duplex } from 'node:stream';
import { AbortReason } from '../src/engine/binding';
import type { Exchange } from '../src/engine/exchange';
import { checkHeaderName, checkHeaderValue, trimOws } from '../src/engine/headers';
import { CONNECTION_CLOSE } from './response-head';
import { connectionReset, type InertSocketMethods, inertSocketMethods, socketAddress, timeoutListener } from './socket';

const HEAD_END = '\r\n\r\n';
/** A response head the listener writes may not grow past this without its blank line. */
const MAX_RESPONSE_HEAD = 64 * 1024;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/;

const enum Phase {
  /** Nothing sent yet: written bytes are collected until the response head is complete. */
  Head,
  /** After a 101 (a 2xx to CONNECT): raw bytes both ways. */
  Raw,
  /** Any other response is being sent; the connection closes after it. */
  Response,
  /** The exchange is over (ended, destroyed or aborted). */
  Over,
}

type WriteCallback = (error?: Error | null) => void;

export class UpgradeSocket extends Duplex {
  // Undefined on a unix socket connection, as in node.
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** The idle timeout set by setTimeout(), in ms (0: none). */
  timeout = 0;
  private phase = Phase.Head;
  /** Bytes of a response head written so far without its blank line. */
  private partialHead: Buffer | null = null;
  /** The callback of a write the engine asked us to hold until its output drains. */
  private drainCallback: WriteCallback | null = null;
  /** The peer's input is paused because our readable buffer is full. */
  private inputPaused = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly exchange: Exchange,
    /** The request is a CONNECT: a 2xx answer opens the tunnel. */
    private readonly tunnel = false,
  ) {
    // node's HTTP server sockets allow half-open connections: the peer's end does not end ours.
    super({ allowHalfOpen: true });
    const info = exchange.socket();
    this.remoteAddress = info.remoteAddress;
    this.remotePort = info.remotePort;
    this.remoteFamily = info.remoteFamily;
    this.localAddress = info.localAddress;
    this.localPort = info.localPort;
    exchange.onabort = (reason) => this.connectionLost(reason);
    exchange.ondrain = () => {
      const callback = this.drainCallback;
      this.drainCallback = null;
      callback?.();
    };
  }

  /**
   * The engine lost the connection. After the switch the peer's end arrives as 'end', so a loss
   * there is a reset or a failed send: node's socket reports it as an ECONNRESET error, which
   * proxies listen for to tear down the other side. Without an 'error' listener the socket just
   * closes (node would throw the error out of the process).
   */
  private connectionLost(reason: AbortReason): void {
    const reset = (reason === AbortReason.Reset || reason === AbortReason.Closed) && this.phase === Phase.Raw && this.listenerCount('error') > 0;
    this.destroy(reset ? connectionReset() : undefined);
  }

  address(): ReturnType<typeof socketAddress> {
    return socketAddress(this.exchange.socket());
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.idleTimer?.refresh();
    if (this.phase !== Phase.Head) return this.send(chunk, callback);
    const bytes = this.partialHead === null ? chunk : Buffer.concat([this.partialHead, chunk]);
    const end = bytes.indexOf(HEAD_END, 0, 'latin1');
    if (end === -1) {
      if (bytes.length > MAX_RESPONSE_HEAD) return callback(new Error('pyre: the response head written to an upgrade socket is too large'));
      this.partialHead = bytes;
      return callback();
    }
    this.partialHead = null;
    try {
      this.startResponse(bytes.toString('latin1', 0, end));
    } catch (err) {
      return callback(err as Error);
    }
    const rest = bytes.subarray(end + HEAD_END.length);
    if (rest.length === 0) return callback();
    this.send(rest, callback);
  }

  /** Hands the head the listener wrote to the engine. */
  private startResponse(head: string): void {
    const lines = head.split('\r\n');
    const statusLine = STATUS_LINE.exec(lines[0]);
    if (statusLine === null) {
      throw new Error(`pyre: the first bytes written to an upgrade socket must be an HTTP response head, not ${JSON.stringify(lines[0])}`);
    }
    const status = Number(statusLine[1]);
    const reason = statusLine[2];
    let block = '';
    let closes = false;
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      if (colon === -1) throw new Error(`pyre: not a header line in the response head: ${JSON.stringify(lines[i])}`);
      const name = lines[i].slice(0, colon);
      const value = trimOws(lines[i], colon + 1, lines[i].length);
      checkHeaderName(name);
      checkHeaderValue(name, value);
      block += `${name}: ${value}\r\n`;
      if (name.length === 10 && name.toLowerCase() === 'connection' && CONNECTION_CLOSE.test(value)) closes = true;
    }
    if (this.tunnel ? status >= 200 && status < 300 : status === 101) {
      this.exchange.writeHeadBlock(status, block, -1, reason);
      this.phase = Phase.Raw;
      // After the 101 the exchange's body is the peer's raw bytes, until it ends its side.
      this.exchange.ondata = (chunk) => this.receive(chunk);
      this.exchange.onend = () => this.push(null);
    } else {
      this.exchange.writeHeadBlock(status, closes ? block : `${block}Connection: close\r\n`, -1, reason);
      this.phase = Phase.Response;
    }
  }

  private send(chunk: Buffer, callback: WriteCallback): void {
    let flowing: boolean;
    try {
      flowing = this.exchange.write(chunk);
    } catch (err) {
      // The engine refuses bytes the response head rules out (more than its Content-Length).
      return callback(err as Error);
    }
    if (flowing) callback();
    else this.drainCallback = callback;
  }

  private receive(chunk: Buffer): void {
    this.idleTimer?.refresh();
    if (!this.push(chunk)) {
      this.inputPaused = true;
      this.exchange.pause();
    }
  }

  override _read(): void {
    if (this.inputPaused) {
      this.inputPaused = false;
      this.exchange.resume();
    }
  }

  override _final(callback: WriteCallback): void {
    const phase = this.phase;
    this.phase = Phase.Over;
    if (phase === Phase.Head) {
      // Ended without a complete response head: close the connection, sending nothing.
      this.exchange.destroy();
    } else {
      this.exchange.end();
    }
    callback();
    // The engine drops whatever the peer sends from here on: for us its input is over.
    if (phase === Phase.Raw) this.push(null);
    else this.destroy();
  }

  override _destroy(error: Error | null, callback: WriteCallback): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    // A refusal written and then destroyed at once (engine.io does so) still goes out whole.
    if (this.phase === Phase.Response) this.exchange.end();
    else if (this.phase !== Phase.Over) this.exchange.destroy();
    this.phase = Phase.Over;
    const pending = this.drainCallback;
    this.drainCallback = null;
    pending?.(Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' }));
    callback(error);
  }

  /** node's socket.setTimeout: 'timeout' after `ms` without input or output (0 turns it off). */
  setTimeout(ms: number, callback?: () => void): this {
    this.timeout = ms;
    timeoutListener(this, ms, callback);
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = ms > 0 ? setTimeout(() => this.emit('timeout'), ms).unref() : null;
    return this;
  }
}

export interface UpgradeSocket extends InertSocketMethods {}
Object.assign(UpgradeSocket.prototype, inertSocketMethods);
