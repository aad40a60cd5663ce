// The base response: a status, validated headers, cookies and an optional complete body.
import { expiredCookie, serializeCookie, type CookieOptions } from '../cookies';
import { Headers, type HeadersLike } from '../headers';
import { fixedHeaders, type FixedHeaders } from '../transport/fixed-headers';
import type { Transport } from '../transport/transport';

export interface ResponseInit {
  status?: number;
  headers?: HeadersLike;
}

export type BodyInit = string | Buffer | Uint8Array;

/** Statuses whose responses never carry a body. */
export function isBodyless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

export class Response {
  readonly status: number;
  readonly body: string | Buffer | undefined;
  /**
   * Until `headers` is first read, a response with only its default Content-Type keeps that as
   * registered fixed headers, and `fields` stays unset: most responses never build a Headers.
   */
  private fixed: FixedHeaders | undefined;
  private fields: Headers | undefined;

  constructor(body?: BodyInit, init: ResponseInit = {}, defaultContentType?: string) {
    this.status = checkStatus(init.status ?? 200);
    this.body = body === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.fixed = init.headers === undefined ? fixedHeaders(defaultContentType) : undefined;
    if (this.fixed === undefined) {
      this.fields = new Headers(init.headers);
      if (defaultContentType !== undefined && !this.fields.has('content-type')) this.fields.set('content-type', defaultContentType);
    }
  }

  get headers(): Headers {
    if (this.fields === undefined) {
      this.fields = new Headers((this.fixed as FixedHeaders).record);
      this.fixed = undefined;
    }
    return this.fields;
  }

  setCookie(name: string, value: string, options?: CookieOptions): this {
    this.headers.append('set-cookie', serializeCookie(name, value, options));
    return this;
  }

  /** Removes a cookie in the browser; `domain` and `path` must match those it was set with. */
  deleteCookie(name: string, options?: Pick<CookieOptions, 'domain' | 'path' | 'secure' | 'sameSite' | 'partitioned'>): this {
    this.headers.append('set-cookie', expiredCookie(name, options));
    return this;
  }

  /** @internal Writes this response to the transport. */
  send(transport: Transport): void | Promise<void> {
    transport.respond(this.status, this.fixed ?? this.headers.record(), isBodyless(this.status) ? undefined : this.body);
  }
}

function checkStatus(status: number): number {
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new RangeError(`pyre: invalid response status ${String(status)}`);
  }
  return status;
}
