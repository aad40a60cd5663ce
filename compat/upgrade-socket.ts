// The socket an 'upgrade' or 'connect' listener gets: a node:stream Duplex over the request's
// engine exchange, as much of a net.Socket as ws, proxies and raw upgrade handlers use. As on
// node, the listener owns the connection from here: what it writes goes out as written (its
// "HTTP/1.1 101 Switching Protocols\r\n..." head, or a refusal, or anything), and the peer's
// bytes come back as 'data', its end as 'end'. The engine frames nothing more on it.
import { Duplex } from 'node:stream';
import { AbortReason } from '../src/engine/binding';
import type { Exchange } from '../src/engine/exchange';
import { connectionReset, type InertSocketMethods, inertSocketMethods, socketAddress, timeoutListener } from './socket';

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
  /** The first bytes were written: the exchange is raw both ways. */
  private switched = false;
  /** The exchange is over (ended, destroyed or aborted): nothing more goes to the engine. */
  private over = false;
  /** The peer's end was pushed. */
  private inputEnded = false;
  /** Bytes handed to the engine (node's bytesWritten adds what is still buffered). */
  private sent = 0;
  /** The callback of a write the engine asked us to hold until its output drains. */
  private drainCallback: WriteCallback | null = null;
  /** The peer's input is paused because our readable buffer is full. */
  private inputPaused = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly exchange: Exchange,
    /** The request is a CONNECT (a tunnel once answered). */
    readonly tunnel = false,
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
    // A FIN right behind the request is news at once, as on node, not once the listener answers.
    exchange.onpeerend = () => this.peerEnded();
    // net.Socket's own 'end' listener, which libraries (and node's tests) count.
    this.on('end', endOurSideUnlessHalfOpen);
  }

  /** As net.Socket's: bytes written so far, those still buffered in the stream included. */
  get bytesWritten(): number {
    return this.sent + this.writableLength;
  }

  /**
   * The engine lost the connection. The peer's end arrives as 'end', so a loss is a reset or a
   * failed send: node's socket reports it as an ECONNRESET error, which proxies listen for to
   * tear down the other side. Without an 'error' listener the socket just closes (node would
   * throw the error out of the process).
   */
  private connectionLost(reason: AbortReason): void {
    this.over = true;
    const reset = (reason === AbortReason.Reset || reason === AbortReason.Closed) && this.switched && this.listenerCount('error') > 0;
    this.destroy(reset ? connectionReset() : undefined);
  }

  address(): ReturnType<typeof socketAddress> {
    return socketAddress(this.exchange.socket());
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.idleTimer?.refresh();
    if (this.over) return callback(Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }));
    this.sent += chunk.length;
    if (this.switched) return this.send(chunk, callback);
    this.switch(chunk);
    callback();
  }

  /** The first bytes: from here the connection is the listener's, raw both ways. */
  private switch(first: Buffer): void {
    this.switched = true;
    this.exchange.switchToRaw(first);
    // Bytes sent behind the request, then the peer's, then its end.
    this.exchange.ondata = (chunk) => this.receive(chunk);
    this.exchange.onend = () => this.peerEnded();
  }

  private send(chunk: Buffer, callback: WriteCallback): void {
    if (this.exchange.write(chunk)) callback();
    else this.drainCallback = callback;
  }

  private receive(chunk: Buffer): void {
    this.idleTimer?.refresh();
    if (!this.push(chunk)) {
      this.inputPaused = true;
      this.exchange.pause();
    }
  }

  /** The peer ended its side: 'end' once its bytes are read, as on net.Socket (at once when none wait). */
  private peerEnded(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    this.push(null);
    this.read(0);
  }

  override _read(): void {
    if (this.inputPaused) {
      this.inputPaused = false;
      this.exchange.resume();
    }
  }

  /** end(): our side is done; the connection closes once the peer has ended its side too (allowHalfOpen). */
  override _final(callback: WriteCallback): void {
    if (!this.over) {
      if (!this.switched) this.switch(Buffer.alloc(0));
      this.over = true;
      this.exchange.end();
    }
    callback();
  }

  override _destroy(error: Error | null, callback: WriteCallback): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    // What was written before goes out as far as the kernel takes it, as with node's destroy().
    if (!this.over) this.exchange.destroy();
    this.over = true;
    const pending = this.drainCallback;
    this.drainCallback = null;
    pending?.(Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' }));
    callback(error);
  }

  /** node's socket.resetAndDestroy(): the connection is reset (RST, unsent output dropped), then the socket is destroyed. */
  resetAndDestroy(): this {
    if (!this.over) {
      this.over = true;
      this.exchange.reset();
    }
    return this.destroy();
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

/** As net.Socket's: the peer's end ends our side too only if half-open connections are not allowed. */
function endOurSideUnlessHalfOpen(this: UpgradeSocket): void {
  if (!this.allowHalfOpen) this.end();
}

export interface UpgradeSocket extends InertSocketMethods {}
Object.assign(UpgradeSocket.prototype, inertSocketMethods);
