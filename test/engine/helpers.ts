// Raw-socket tools for the engine's integration tests: write exact bytes, read back parsed
// responses or the close, and start/stop fast-path servers on 127.0.0.1 port 0.
import * as net from 'node:net';
import { NativeServer, type Handler, type NativeServerOptions, type ListenOptions } from '../../src/engine/server';

/** How long any single wait in these tests may take before it fails. */
export const WAIT_MS = 3000;

export interface ParsedResponse {
  /** The status line without its CRLF, e.g. "HTTP/1.1 200 OK". */
  statusLine: string;
  status: number;
  /** Header fields in order, names as sent. */
  rawHeaders: [string, string][];
  /** Lower-cased names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** Trailer fields of a chunked body, names lower-cased. */
  trailers: Record<string, string>;
  /** The response's exact bytes. */
  raw: Buffer;
}

interface ParseStep {
  response: ParsedResponse;
  used: number;
}

/**
 * Parses one response at the start of `buf`; null if it is not complete yet. A body framed by
 * the close is complete only once `closed` is true. `head`: the request was HEAD (no body).
 */
export function parseResponse(buf: Buffer, head: boolean, closed: boolean): ParseStep | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = lines[0];
  const match = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine + ' ');
  if (!match) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
  const status = Number(match[1]);
  const rawHeaders: [string, string][] = lines.slice(1).map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const headers = fieldMap(rawHeaders);
  const bodyStart = end + 4;
  const done = (body: Buffer, used: number, trailers: Record<string, string> = {}): ParseStep => ({
    response: { statusLine, status, rawHeaders, headers, body, trailers, raw: buf.subarray(0, used) },
    used,
  });

  if (head || status < 200 || status === 204 || status === 304) return done(Buffer.alloc(0), bodyStart);
  if (/(^|,)\s*chunked\s*$/i.test(headers['transfer-encoding'] ?? '')) return parseChunked(buf, bodyStart, done);
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (buf.length < bodyStart + length) return null;
    return done(buf.subarray(bodyStart, bodyStart + length), bodyStart + length);
  }
  return closed ? done(buf.subarray(bodyStart), buf.length) : null;
}

function parseChunked(
  buf: Buffer,
  start: number,
  done: (body: Buffer, used: number, trailers?: Record<string, string>) => ParseStep,
): ParseStep | null {
  const pieces: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd === -1) return null;
    const size = parseInt(buf.subarray(at, lineEnd).toString('latin1').split(';')[0], 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk size line at ${at}`);
    at = lineEnd + 2;
    if (size === 0) break;
    if (buf.length < at + size + 2) return null;
    pieces.push(buf.subarray(at, at + size));
    at += size + 2;
  }
  const trailerEnd = buf.indexOf('\r\n\r\n', at - 2);
  if (trailerEnd === -1) return null;
  const trailerLines = buf.subarray(at, trailerEnd).toString('latin1').split('\r\n').filter((l) => l !== '');
  const trailers = fieldMap(trailerLines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
  return done(Buffer.concat(pieces), trailerEnd + 4, trailers);
}

function fieldMap(fields: [string, string][]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [name, value] of fields) {
    const key = name.toLowerCase();
    map[key] = map[key] === undefined ? value : `${map[key]}, ${value}`;
  }
  return map;
}

/** A client socket that records every byte the server sends and whether it closed. */
export class RawClient {
  private received = Buffer.alloc(0);
  private parsedUpTo = 0;
  private readonly parsed: ParsedResponse[] = [];
  /** Requests sent with HEAD, by response index, so their responses are read without a body. */
  private readonly headAt = new Set<number>();
  private waiters: (() => void)[] = [];
  /** The server ended or reset the connection. */
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('end', () => this.markClosed());
    socket.on('close', () => this.markClosed());
    // A reset from the server ends the connection like a close does.
    socket.on('error', () => this.markClosed());
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return RawClient.open({ port, host });
  }

  /** A connection to a unix domain socket. */
  static connectPath(path: string): Promise<RawClient> {
    return RawClient.open({ path });
  }

  private static open(options: net.NetConnectOpts): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(options);
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** All bytes received so far. */
  get bytes(): Buffer {
    return this.received;
  }

  /** Marks the `index`-th response of this connection as answering a HEAD request. */
  expectHead(index: number): this {
    this.headAt.add(index);
    return this;
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Resolves once `count` responses (interim 1xx included) have arrived in total. */
  async responses(count: number, timeout = WAIT_MS): Promise<ParsedResponse[]> {
    await this.until(() => this.parseMore() >= count, timeout, () => `${count} responses (have ${this.parsed.length})`);
    return this.parsed.slice(0, count);
  }

  /** Resolves once the server has closed the connection; every response parsed by then. */
  async closedByServer(timeout = WAIT_MS): Promise<ParsedResponse[]> {
    await this.until(() => this.closed, timeout, () => 'the server to close the connection');
    this.parseMore();
    return this.parsed.slice();
  }

  /** Whether the connection is still open after `ms` milliseconds of waiting. */
  async stillOpenAfter(ms: number): Promise<boolean> {
    await delay(ms);
    return !this.closed;
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Sends an RST instead of a FIN. */
  resetConnection(): void {
    this.socket.resetAndDestroy();
  }

  private parseMore(): number {
    for (;;) {
      const step = parseResponse(this.received.subarray(this.parsedUpTo), this.headAt.has(this.parsed.length), this.closed);
      if (step === null) return this.parsed.length;
      this.parsed.push(step.response);
      this.parsedUpTo += step.used;
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private markClosed(): void {
    this.closed = true;
    this.wake();
  }

  private until(ready: () => boolean, timeout: number, what: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${timeout} ms waiting for ${what()}; received: ${JSON.stringify(this.received.toString('latin1'))}`));
      }, timeout);
      const check = (): void => {
        if (ready()) {
          clearTimeout(timer);
          resolve();
        } else if (this.closed) {
          // Nothing more can arrive: fail now rather than at the timeout.
          clearTimeout(timer);
          reject(new Error(`connection closed while waiting for ${what()}; received: ${JSON.stringify(this.received.toString('latin1'))}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }
}

/**
 * Opens a connection, sends `request`, and returns what came back by the time the server
 * closed. `head`: the request is HEAD, so its response has no body.
 */
export async function sendAndAwaitClose(port: number, request: string | Buffer, head = false): Promise<{ responses: ParsedResponse[]; bytes: Buffer }> {
  const client = await RawClient.connect(port);
  if (head) client.expectHead(0);
  client.write(request);
  try {
    const responses = await client.closedByServer();
    return { responses, bytes: client.bytes };
  } finally {
    client.destroy();
  }
}

/** One well-formed request on a fresh connection: proves the server still serves. */
export async function getOnce(port: number, path = '/', host = '127.0.0.1'): Promise<ParsedResponse> {
  const client = await RawClient.connect(port, host);
  client.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
  try {
    const [response] = await client.responses(1);
    return response;
  } finally {
    client.destroy();
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 5 ms; fails after `timeout` ms naming `what` it waited for. */
export async function eventually(condition: () => boolean, what: string, timeout = WAIT_MS): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await delay(5);
  }
}

/** Servers started by a test file, closed by `stopAll()` in afterEach. */
const running = new Set<NativeServer>();

/** A fast-path server listening on 127.0.0.1 (or as `listen` says), port 0. */
export function startServer(handler: Handler, options: NativeServerOptions = {}, listen: ListenOptions = {}): { server: NativeServer; port: number } {
  const server = new NativeServer(handler, options);
  const { port } = server.listen({ host: '127.0.0.1', port: 0, ...listen });
  running.add(server);
  return { server, port };
}

/** Closes a server and every connection it has; resolves on 'close'. */
export function stopServer(server: NativeServer): Promise<void> {
  running.delete(server);
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stopServer));
}

/** The handler most tests use: answers every request with its method and URL. */
export const echoTarget: Handler = (ex) => ex.respond(200, `${ex.method} ${ex.url}`, { 'content-type': 'text/plain' });

/** IMF-fixdate, RFC 9110 section 5.6.7. */
export const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** A response's bytes as text with its Date value (checked to be IMF-fixdate) replaced by "<date>". */
export function withoutDate(response: ParsedResponse): string {
  const text = response.raw.toString('latin1');
  const match = /\r\nDate: ([^\r]*)\r\n/.exec(text);
  if (!match) throw new Error(`no Date header in ${JSON.stringify(text)}`);
  if (!IMF_FIXDATE.test(match[1])) throw new Error(`Date is not IMF-fixdate: ${match[1]}`);
  return text.replace(match[0], '\r\nDate: <date>\r\n');
}
