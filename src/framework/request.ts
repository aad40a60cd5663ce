// The request a handler sees. Everything beyond method and path is computed on first use:
// a handler that only reads its path parameters costs no header parsing at all.
import { StringDecoder } from 'node:string_decoder';
import { parseCookies } from './cookies';
import { HttpError } from './errors';
import { Headers } from './headers';
import { Session, type SessionSealer } from './session';
import type { Transport } from './transport/transport';

/** What a request needs from its app. */
export interface RequestContext {
  /** Bytes read(), text() and json() accept (413 beyond). */
  readonly bodyLimit: number;
  readonly sealer: SessionSealer | null;
  readonly sessionCookie: string;
}

export type Query = Record<string, string | string[]>;

export class Request {
  private cachedQuery: Query | undefined;
  private cachedHeaders: Headers | undefined;
  private cachedCookies: ReadonlyMap<string, string> | undefined;
  private cachedBody: Promise<Buffer> | undefined;
  private cachedParams: Readonly<Record<string, unknown>> | undefined;
  /** @internal Opened on first use, sealed into a cookie after the response if it changed. */
  openedSession: Session | undefined;

  /** @internal */
  constructor(
    /** @internal */ readonly transport: Transport,
    private readonly context: RequestContext,
    private readonly paramNames: readonly string[],
    /** Converted path parameter values, in path order. */
    private readonly paramValues: readonly unknown[],
  ) {}

  /** Converted path parameters by name. */
  get params(): Readonly<Record<string, unknown>> {
    if (this.cachedParams === undefined) {
      const params: Record<string, unknown> = {};
      for (let i = 0; i < this.paramNames.length; i++) params[this.paramNames[i]] = this.paramValues[i];
      this.cachedParams = params;
    }
    return this.cachedParams;
  }

  get method(): string {
    return this.transport.method;
  }

  /** The path as received, still percent-encoded. */
  get rawPath(): string {
    const target = this.transport.target;
    const q = target.indexOf('?');
    return q === -1 ? target : target.slice(0, q);
  }

  /** The percent-decoded path. */
  get url(): string {
    const raw = this.rawPath;
    if (!raw.includes('%')) return raw;
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }

  /** Query parameters: strings, arrays when a key repeats. */
  get query(): Query {
    if (this.cachedQuery === undefined) {
      const target = this.transport.target;
      const q = target.indexOf('?');
      this.cachedQuery = parseQuery(q === -1 ? '' : target.slice(q + 1));
    }
    return this.cachedQuery;
  }

  get headers(): Headers {
    this.cachedHeaders ??= Headers.received(this.transport.rawHeaders());
    return this.cachedHeaders;
  }

  /** Cookies the client sent (read-only: set them on the response). */
  get cookies(): ReadonlyMap<string, string> {
    this.cachedCookies ??= parseCookies(this.transport.header('cookie'));
    return this.cachedCookies;
  }

  /** The session stored in the encrypted session cookie; needs `sessionKeys` on the App. */
  get session(): Session {
    if (this.openedSession === undefined) {
      const sealer = this.context.sealer;
      if (sealer === null) throw new Error('pyre: request.session needs `sessionKeys` in the App options');
      this.openedSession = sealer.open(this.cookies.get(this.context.sessionCookie));
    }
    return this.openedSession;
  }

  /** [address, port] of the server socket. */
  get serverInfo(): [string, number] {
    return this.transport.local();
  }

  /** [address, port] of the client. */
  get remoteAddress(): [string, number] {
    return this.transport.remote();
  }

  /**
   * Aborts when the client goes away (closes or resets the connection) before the response is
   * complete: pass it to fetch, timers or queries done for this request, or listen for 'abort'.
   */
  get signal(): AbortSignal {
    return this.transport.signal;
  }

  /** The whole body; 413 past the app's `bodyLimit`. Can be called more than once. */
  read(): Promise<Buffer> {
    this.cachedBody ??= this.readBody();
    return this.cachedBody;
  }

  async text(): Promise<string> {
    return (await this.read()).toString('utf8');
  }

  /** The body parsed as JSON; 400 when malformed, 413 past the limit. */
  async json(): Promise<any> {
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(400, 'Malformed JSON body');
    }
  }

  /**
   * The body as it arrives, Buffer by Buffer, read with backpressure (no size limit but the
   * server's): for uploads that are counted, hashed or written on rather than kept whole.
   */
  async *chunks(): AsyncIterable<Buffer> {
    if (this.cachedBody !== undefined) yield await this.cachedBody;
    else yield* this.transport.chunks();
  }

  /** The body as text, piece by piece as it arrives (no size limit but the server's). */
  async *textIter(): AsyncIterable<string> {
    const decoder = new StringDecoder('utf8');
    for await (const chunk of this.chunks()) {
      const text = decoder.write(chunk);
      if (text !== '') yield text;
    }
    const rest = decoder.end();
    if (rest !== '') yield rest;
  }

  private async readBody(): Promise<Buffer> {
    const limit = this.context.bodyLimit;
    const declared = Number(this.transport.header('content-length'));
    if (declared > limit) throw new HttpError(413);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.transport.chunks()) {
      size += chunk.length;
      if (size > limit) throw new HttpError(413);
      chunks.push(chunk);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
  }
}

function parseQuery(search: string): Query {
  const query: Query = {};
  if (search === '') return query;
  for (const [key, value] of new URLSearchParams(search)) {
    const current = Object.prototype.hasOwnProperty.call(query, key) ? query[key] : undefined;
    const next = current === undefined ? value : Array.isArray(current) ? [...current, value] : [current, value];
    // defineProperty: a key named __proto__ must stay a plain key.
    Object.defineProperty(query, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return query;
}
