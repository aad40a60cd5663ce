// The framework over the engine's fast path: one Exchange per request.
import { RequestAbortedError, type Exchange } from '../../engine/exchange';
import { FixedHeaders } from './fixed-headers';
import type { OutgoingHeaders, Transport } from './transport';

/** Body chunks buffered before the reader catches up; past this the connection is paused. */
const QUEUE_PAUSE = 16;

export class ExchangeTransport implements Transport {
  private abortListeners: (() => void)[] | null = null;
  private drainWaiter: (() => void) | null = null;

  constructor(private readonly exchange: Exchange) {}

  get method(): string {
    return this.exchange.method;
  }
  get target(): string {
    return this.exchange.url;
  }
  get aborted(): boolean {
    return this.exchange.abortReason !== 0;
  }
  get signal(): AbortSignal {
    return this.exchange.signal;
  }
  get headersSent(): boolean {
    return this.exchange.headersSent;
  }

  rawHeaders(): string[] {
    return this.exchange.rawHeaders();
  }
  header(name: string): string | undefined {
    return this.exchange.header(name);
  }
  remote(): [string, number] {
    const info = this.exchange.socket();
    return [info.remoteAddress ?? '', info.remotePort ?? 0];
  }
  local(): [string, number] {
    const info = this.exchange.socket();
    return [info.localAddress ?? '', info.localPort ?? 0];
  }

  /** One abort hook on the exchange, shared by body reading and streaming. */
  private onAbort(listener: () => void): void {
    if (this.abortListeners === null) {
      const listeners: (() => void)[] = (this.abortListeners = []);
      this.exchange.onabort = () => listeners.forEach((l) => l());
    }
    this.abortListeners.push(listener);
  }

  async *chunks(): AsyncIterable<Buffer> {
    const exchange = this.exchange;
    const queue: Buffer[] = [];
    let ended = false;
    let wake: (() => void) | null = null;
    const notify = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    this.onAbort(notify);
    exchange.ondata = (chunk) => {
      queue.push(chunk);
      if (queue.length === QUEUE_PAUSE) exchange.pause();
      notify();
    };
    exchange.onend = () => {
      ended = true;
      notify();
    };
    try {
      for (;;) {
        if (queue.length > 0) {
          const chunk = queue.shift() as Buffer;
          if (queue.length === QUEUE_PAUSE - 1) exchange.resume();
          yield chunk;
        } else if (ended) {
          return;
        } else if (exchange.abortReason) {
          throw new RequestAbortedError(exchange.abortReason);
        } else {
          await new Promise<void>((resolve) => (wake = resolve));
        }
      }
    } finally {
      exchange.ondata = null;
      exchange.onend = null;
    }
  }

  respond(status: number, headers: OutgoingHeaders | FixedHeaders, body: string | Buffer | undefined): void {
    this.exchange.respond(status, body, headers instanceof FixedHeaders ? headers.block : headers);
  }
  startStream(status: number, headers: OutgoingHeaders, contentLength: number): void {
    this.exchange.writeHead(status, headers, contentLength);
  }
  write(chunk: Buffer | string): boolean {
    return this.exchange.write(chunk);
  }
  drained(): Promise<void> {
    if (this.aborted) return Promise.resolve();
    if (this.exchange.ondrain === null) {
      const wake = (): void => {
        const waiter = this.drainWaiter;
        this.drainWaiter = null;
        waiter?.();
      };
      this.exchange.ondrain = wake;
      this.onAbort(wake);
    }
    return new Promise((resolve) => (this.drainWaiter = resolve));
  }
  end(): void {
    this.exchange.end();
  }
  destroy(): void {
    this.exchange.destroy();
  }
}
