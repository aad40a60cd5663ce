// The request side: a real http.IncomingMessage, filled the way node's server fills it, so its
// prototype getters (headers, headersDistinct, trailers) and Readable machinery work unchanged.
import { IncomingMessage } from 'node:http';
import type { Exchange } from '../src/engine/exchange';
import type { IncomingInternals } from './node-internals';
import type { PyreSocket } from './socket';

export interface RequestOptions {
  /** Node's `joinDuplicateHeaders`: join repeated fields with ', ' instead of keeping the first. */
  joinDuplicateHeaders: boolean;
  /** Node's `server.maxHeadersCount`: fields beyond it are dropped (0 or null = no limit here). */
  maxHeadersCount: number | null;
}

export function createRequest(exchange: Exchange, socket: PyreSocket, options: RequestOptions): IncomingMessage {
  const req = new IncomingMessage(socket as never) as IncomingMessage & IncomingInternals;
  req.method = exchange.method;
  req.url = exchange.url;
  req.httpVersionMajor = 1;
  if (exchange.httpVersion === '1.1') {
    req.httpVersionMinor = 1;
    req.httpVersion = '1.1';
  } else {
    req.httpVersionMinor = 0;
    req.httpVersion = '1.0';
  }
  req.joinDuplicateHeaders = options.joinDuplicateHeaders;
  let raw = exchange.rawHeaders();
  const max = options.maxHeadersCount;
  if (max && raw.length > max * 2) raw = raw.slice(0, max * 2);
  // Node parses `headers` lazily from rawHeaders on first access; we keep that laziness.
  req._addHeaderLines(raw, raw.length);
  socket.request = req;
  if (!exchange.hasBody) {
    req.complete = true;
    req.push(null);
  }
  return req;
}

/** The response is complete: the engine drops any unread body, so the request ends here, as node's does once dumped. */
export function finishRequest(request: IncomingMessage): void {
  const req = request as IncomingMessage & IncomingInternals;
  if (!req.complete) {
    req.complete = true;
    req.push(null);
  }
  if (!req._consuming && !req._readableState.resumeScheduled) req._dump();
}
