// Engine limits: every one configurable, each default chosen to be safe (see docs/LIMITS.md).
import type { NativeLimits } from './binding';

export interface EngineOptions {
  /** Most header fields in a request head (431 beyond). Default 100. */
  maxHeaderCount?: number;
  /** Bytes of request line plus header section (431 beyond). Default 16384, as node. */
  maxHeaderSize?: number;
  /** Bytes of request-target (414 beyond). Default 8192. */
  maxUrlLength?: number;
  /** Bytes of request body (413 beyond); 0 = unlimited. Default 0 (node has no limit either). */
  maxBodySize?: number;
  /** ms to receive a complete request head. Default 60000, as node. 0 disables. */
  headersTimeout?: number;
  /** ms to receive a complete request (head and body). Default 300000, as node. 0 disables. */
  requestTimeout?: number;
  /** ms an idle keep-alive connection stays open. Default 5000, as node. 0 disables. */
  keepAliveTimeout?: number;
  /** Bytes of unsent output per connection before backpressure. Default 65536. */
  highWaterMark?: number;
  /** Requests parsed ahead of the one being answered, per connection. Default 64. */
  maxPipelined?: number;
  /** Open connections at most; beyond it new ones are closed at once. 0 = unlimited. Default 0. */
  maxConnections?: number;
  /**
   * HTTP/1.1 requests one connection may carry (nginx's keepalive_requests): the last one is
   * answered as one that asked to close, and nothing after it is read. 0 = unlimited. Default 0.
   */
  maxRequestsPerConnection?: number;
  /** Reject HTTP/1.1 requests without Host (400). Default true, as node. */
  requireHostHeader?: boolean;
  /** TCP_NODELAY on accepted sockets. Default true, as node. */
  noDelay?: boolean;
  /**
   * Accept CONNECT requests (authority-form target, no content) and let a 2xx answer through
   * `writeHead` turn the connection into a raw tunnel, as a 101 does for an upgrade. Default
   * false: CONNECT is refused with 501.
   */
  allowConnect?: boolean;
  /**
   * Keep answering a client that has ended its side (sent FIN) after its requests: every request
   * received is answered, then the connection closes. Default false, as node's server
   * (`httpAllowHalfOpen`): the client's end aborts the requests still unanswered, which is how a
   * client that goes away (a closed tab, a cancelled fetch) is noticed at once.
   */
  allowHalfOpen?: boolean;
  /**
   * Pass a request whose `Expect` is not `100-continue` to the handler (`exchange.expectation`
   * says so; the handler answers it, with a 417 or otherwise) instead of refusing it with 417.
   * Default false; the drop-in sets it for node's 'checkExpectation'.
   */
  forwardExpectations?: boolean;
  /**
   * Answer as node:http does where the engine's own answers differ (the drop-in sets it):
   * a refused request is answered with a bare status line and `Connection: close` (431 for every
   * overflow); a connection that sends no request within headersTimeout or requestTimeout of its
   * accept is answered 408 (otherwise it is closed without a word); an upgrade request needs no
   * Host; Date follows the response's own header fields (otherwise it comes first). Default false.
   */
  nodeCompat?: boolean;
  /**
   * Take what node's `insecureHTTPParser` takes in a request head: control characters (other
   * than NUL, CR and LF) in header values, and any Host value. Every framing and line-ending rule
   * (the request-smuggling defences) still applies. Default false.
   */
  lenientHeaders?: boolean;
}

export const defaultLimits: Readonly<NativeLimits> = Object.freeze({
  maxHeaderCount: 100,
  maxHeaderSize: 16384,
  maxUrlLength: 8192,
  maxBodySize: 0,
  headersTimeout: 60_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 5_000,
  highWaterMark: 65_536,
  maxPipelined: 64,
  maxConnections: 0,
  maxRequestsPerConnection: 0,
  requireHost: true,
  noDelay: true,
  allowConnect: false,
  allowHalfOpen: false,
  forwardExpectations: false,
  nodeCompat: false,
  lenientHeaders: false,
  router: -1,
});

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`pyre: option ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

export function resolveLimits(options: EngineOptions = {}, router = -1): NativeLimits {
  const d = defaultLimits;
  return {
    maxHeaderCount: count('maxHeaderCount', options.maxHeaderCount, d.maxHeaderCount, 1),
    maxHeaderSize: count('maxHeaderSize', options.maxHeaderSize, d.maxHeaderSize, 64),
    maxUrlLength: count('maxUrlLength', options.maxUrlLength, d.maxUrlLength, 1),
    maxBodySize: count('maxBodySize', options.maxBodySize, d.maxBodySize, 0),
    headersTimeout: count('headersTimeout', options.headersTimeout, d.headersTimeout, 0),
    requestTimeout: count('requestTimeout', options.requestTimeout, d.requestTimeout, 0),
    keepAliveTimeout: count('keepAliveTimeout', options.keepAliveTimeout, d.keepAliveTimeout, 0),
    highWaterMark: count('highWaterMark', options.highWaterMark, d.highWaterMark, 1),
    maxPipelined: count('maxPipelined', options.maxPipelined, d.maxPipelined, 1),
    maxConnections: count('maxConnections', options.maxConnections, d.maxConnections, 0),
    maxRequestsPerConnection: count('maxRequestsPerConnection', options.maxRequestsPerConnection, d.maxRequestsPerConnection, 0),
    requireHost: options.requireHostHeader ?? d.requireHost,
    noDelay: options.noDelay ?? d.noDelay,
    allowConnect: options.allowConnect ?? d.allowConnect,
    allowHalfOpen: options.allowHalfOpen ?? d.allowHalfOpen,
    forwardExpectations: options.forwardExpectations ?? d.forwardExpectations,
    nodeCompat: options.nodeCompat ?? d.nodeCompat,
    lenientHeaders: options.lenientHeaders ?? d.lenientHeaders,
    router,
  };
}
