// The base response: a status, validated headers, cookies and an optional complete body.
import { expiredCookie, serializeCookie, type CookieOptions } from '../cookies';
import { Headers, type HeadersLike } from '../headers';
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
  readonly headers: Headers;
  readonly body: string | Buffer | undefined;

  constructor(body?: BodyInit, init: ResponseInit = {}, defaultContentType?: string) {
    this.status = checkStatus(init.status ?? 200);
    this.headers = new Headers(init.headers);
    this.body = body === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (defaultContentType !== undefined && !this.headers.has('content-type')) this.headers.set('content-type', defaultContentType);
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
    transport.respond(this.status, this.headers.record(), isBodyless(this.status) ? undefined : this.body);
  }
}

function checkStatus(status: number): number {
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new RangeError(`pyre: invalid response status ${String(status)}`);
  }
  return status;
}
