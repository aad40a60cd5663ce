// The framework over node's http API (node's server, Pyre's compat server, light-my-request).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FixedHeaders } from './fixed-headers';
import type { OutgoingHeaders, Transport } from './transport';

export class NodeTransport implements Transport {
  constructor(private readonly req: IncomingMessage, private readonly res: ServerResponse) {}

  get method(): string {
    return this.req.method ?? 'GET';
  }
  get target(): string {
    return this.req.url ?? '/';
  }
  get aborted(): boolean {
    return this.res.destroyed && !this.res.writableFinished;
  }
  /** Made on first use: aborts when the response closes unfinished. */
  get signal(): AbortSignal {
    const controller = new AbortController();
    const res = this.res;
    if (this.aborted) controller.abort();
    else if (!res.writableFinished) res.once('close', () => void (res.writableFinished || controller.abort()));
    Object.defineProperty(this, 'signal', { value: controller.signal });
    return controller.signal;
  }
  get headersSent(): boolean {
    return this.res.headersSent;
  }

  rawHeaders(): string[] {
    return this.req.rawHeaders;
  }
  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  remote(): [string, number] {
    return [this.req.socket.remoteAddress ?? '', this.req.socket.remotePort ?? 0];
  }
  local(): [string, number] {
    return [this.req.socket.localAddress ?? '', this.req.socket.localPort ?? 0];
  }

  chunks(): AsyncIterable<Buffer> {
    return this.req;
  }

  private head(status: number, headers: OutgoingHeaders): void {
    this.res.statusCode = status;
    for (const name of Object.keys(headers)) this.res.setHeader(name, headers[name]);
  }

  respond(status: number, headers: OutgoingHeaders | FixedHeaders, body: string | Buffer | undefined): void {
    this.head(status, headers instanceof FixedHeaders ? headers.record : headers);
    if (body !== undefined && !this.res.hasHeader('content-length')) {
      this.res.setHeader('content-length', Buffer.byteLength(body));
    }
    this.res.end(body);
  }
  startStream(status: number, headers: OutgoingHeaders, contentLength: number): void {
    this.head(status, headers);
    if (contentLength >= 0) this.res.setHeader('content-length', contentLength);
    this.res.flushHeaders();
  }
  write(chunk: Buffer | string): boolean {
    return this.res.write(chunk);
  }
  drained(): Promise<void> {
    const res = this.res;
    if (res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }
  end(): void {
    this.res.end();
  }
  destroy(): void {
    this.res.destroy();
  }
}
