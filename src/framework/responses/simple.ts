// Responses with a complete body of a known kind.
import { Response, type ResponseInit } from './response';

export class TextResponse extends Response {
  constructor(body: string, init?: ResponseInit) {
    super(body, init, 'text/plain; charset=utf-8');
  }
}

export class HTMLResponse extends Response {
  constructor(body: string, init?: ResponseInit) {
    super(body, init, 'text/html; charset=utf-8');
  }
}

export class JSONResponse extends Response {
  constructor(body: unknown, init?: ResponseInit) {
    super(JSON.stringify(body) ?? 'null', init, 'application/json; charset=utf-8');
  }
}

/** The body is the target URL; the status defaults to 302 and must be a 3xx. */
export class RedirectResponse extends Response {
  constructor(location: string, init: ResponseInit = {}) {
    const status = init.status ?? 302;
    if (status < 300 || status > 399) throw new RangeError(`pyre: a redirect needs a 3xx status, got ${status}`);
    super(undefined, { ...init, status });
    this.headers.set('location', location);
  }
}
