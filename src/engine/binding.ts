// The addon's raw interface. Only src/engine/ talks to it; everything else uses NativeServer.
import { loadNative, processEnvironment } from './loader';

/** Bits of the `flags` argument of `onRequest`. */
export const enum RequestFlags {
  /** HTTP/1.1 (otherwise HTTP/1.0). */
  Http11 = 1,
  /** The connection stays open after this exchange unless the response says otherwise. */
  KeepAlive = 2,
  /** The request has a body (Content-Length > 0 or chunked): expect onData/onEnd. */
  HasBody = 4,
  /** The request carried `Expect: 100-continue`: `100 Continue` goes out on the first read of the body. */
  ExpectContinue = 8,
  /** The request asked for a protocol switch (`Connection: upgrade` + `Upgrade`). */
  Upgrade = 16,
  /** The body is chunked (no length known in advance). */
  Chunked = 32,
  /** A HEAD request: the engine never sends body bytes for it. */
  Head = 64,
  /** An `Expect` other than 100-continue (only with the forwardExpectations option). */
  ExpectOther = 128,
  /** Bits 8-11: a common method's code (see COMMON_METHODS); 0 when the method arrives as a string. */
  MethodShift = 8,
  MethodMask = 0xf00,
}

/** The methods onRequest receives as a code in its flags, in code order from 1 (native/src/connection/input.rs). */
export const COMMON_METHODS: readonly string[] = ['', 'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** Why `onAbort` fired. */
export const enum AbortReason {
  /** The peer closed or reset the connection before the exchange finished. */
  Closed = 1,
  /** The request body broke the framing rules (bad chunk, too large, ...). */
  BadBody = 2,
  /** A timeout closed the connection. */
  Timeout = 3,
  /** The server destroyed the connection (destroy(), closeAllConnections()). */
  Destroyed = 4,
  /** The peer reset the connection (or a send to it failed). */
  Reset = 5,
}

/** Connection events a server asks to hear of with `serverWatch`; each costs a call per connection. */
export const enum ConnectionEvents {
  /** onConnectionClose, for every connection the server has heard of (a request or another event). */
  Close = 1,
  /** onConnection, as each connection is accepted. */
  Accept = 2,
  /** onClientError, when the engine refuses a request (and answers it itself). */
  ClientError = 4,
}

/** Options carried above the status code in the `status` argument of respond/writeHead. */
export const enum StatusOption {
  /** No Date line (node's `res.sendDate = false`). */
  NoDate = 0x10000,
  /** A reason phrase is given (otherwise the argument is not looked at). */
  Reason = 0x20000,
  /** The header block argument is a registered block's id (otherwise header lines). */
  BlockId = 0x40000,
  /**
   * The header block argument is raw bytes (a response head as an 'upgrade' socket was given it),
   * sent as is; the connection is raw both ways from then on (an upgrade or CONNECT request only).
   */
  RawHead = 0x80000,
  /**
   * Without framing fields in the block the body is close-delimited: the engine adds no framing
   * or Connection field, and closes the connection after it (node's response whose framing
   * fields were removed).
   */
  UntilClose = 0x10000000,
}

/**
 * The status argument of respond/writeHead: the code, with what the engine would otherwise have to
 * ask napi about the other arguments. A code that does not fit is sent as 0, which the engine refuses.
 */
export function statusWord(status: number, block: string | number, reason: string | undefined, sendDate: boolean, connectionLines = 0, untilClose = false): number {
  let word = status >= 0 && status <= 0xffff ? status : 0;
  if (untilClose) word |= StatusOption.UntilClose;
  if (!sendDate) word |= StatusOption.NoDate;
  if (reason !== undefined) word |= StatusOption.Reason;
  if (typeof block === 'number') word |= StatusOption.BlockId;
  return word | (connectionLines & 0xff) << CONNECTION_LINES_SHIFT;
}

/**
 * Bits 20..27 of the status word: how many bytes at the end of the header block are the
 * Connection lines the drop-in adds, which node writes after Date (see the engine's nodeCompat).
 */
const CONNECTION_LINES_SHIFT = 20;

/** Tokens are `connection id * 2^20 + request sequence` (native/src/connection/mod.rs SEQ_BITS). */
const SEQUENCE_SPACE = 2 ** 20;

/** The id of the connection a token belongs to. */
export function connectionOf(token: number): number {
  return Math.floor(token / SEQUENCE_SPACE);
}

/** A token naming a connection itself, for the calls that act on the connection (socketInfo, destroy, endConnection). */
export function connectionToken(connection: number): number {
  return connection * SEQUENCE_SPACE;
}

export interface NativeCallbacks {
  /**
   * A request head arrived. With a router, `route` (-1 not found, -2 method not allowed) and
   * the parameter `count` follow, then the parameters themselves as separate arguments (up to
   * four; beyond that `p0` is an array of all of them): cheaper than a napi-built array.
   */
  onRequest(token: number, method: string | undefined, url: string, flags: number, route?: number, count?: number, p0?: unknown, p1?: unknown, p2?: unknown, p3?: unknown): void;
  /** A piece of the request body. Body callbacks stop once the response is complete: the rest is discarded. */
  onData(token: number, chunk: Buffer): void;
  /** The request body is complete (trailers, if any, are readable now). */
  onEnd(token: number): void;
  /** The exchange ended before its response did; no more callbacks come for `token`. */
  onAbort(token: number, reason: AbortReason): void;
  /** Output the exchange was told to hold back (write() returned false) has drained. */
  onDrain(token: number): void;
  /** The server has stopped listening and its last connection has closed. */
  onIdle(): void;
  /** A connection was accepted (ConnectionEvents.Accept). */
  onConnection(connection: number): void;
  /** A connection closed, after onAbort for its exchanges (ConnectionEvents.Close); `reason` says why. */
  onConnectionClose(connection: number, reason: AbortReason): void;
  /**
   * The engine refused a malformed request and has answered it (ConnectionEvents.ClientError).
   * `code` is the one node's parser gives the same fault (e.g. HPE_HEADER_OVERFLOW), or an
   * ERR_PYRE_* code; `reason` the engine's own words; `rawPacket` the unparsed input.
   */
  onClientError(connection: number, code: string, reason: string, rawPacket: Buffer): void;
}

export interface NativeLimits {
  maxHeaderCount: number;
  maxHeaderSize: number;
  maxUrlLength: number;
  /** 0 = unlimited. */
  maxBodySize: number;
  /** ms; 0 disables. */
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  /** Bytes of unsent output per connection above which reading stops and write() returns false. */
  highWaterMark: number;
  /** Requests parsed ahead of the one being answered, per connection. */
  maxPipelined: number;
  /** 0 = unlimited. */
  maxConnections: number;
  maxRequestsPerConnection: number;
  allowConnect: boolean;
  allowHalfOpen: boolean;
  forwardExpectations: boolean;
  nodeCompat: boolean;
  lenientHeaders: boolean;
  requireHost: boolean;
  noDelay: boolean;
  /** Native router id (see Router), or -1. */
  router: number;
}

export interface ListenResult {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** Every field is absent for a connection on a unix domain socket, as node reports them. */
export interface SocketInfo {
  remoteAddress?: string;
  remotePort?: number;
  remoteFamily?: 'IPv4' | 'IPv6';
  localAddress?: string;
  localPort?: number;
}

export interface Binding {
  serverCreate(limits: NativeLimits, callbacks: NativeCallbacks): number;
  /** Binds and listens at once; throws an Error with node's `code`/`syscall` on failure. */
  serverListen(server: number, host: string, port: number, backlog: number, ipv6Only: boolean, reusePort: boolean): ListenResult;
  /**
   * Binds a unix domain socket at `path` (UTF-8 bytes; a leading NUL names an abstract socket)
   * and listens; readableAll/writableAll add read/write permission for everyone to the socket
   * file. Throws like serverListen.
   */
  serverListenUnix(server: number, path: Buffer, backlog: number, readableAll: boolean, writableAll: boolean): void;
  /**
   * Serves a socket this process was handed already bound and listening (its descriptor becomes
   * the server's); the address, or undefined for a unix socket. Throws like serverListen
   * (EINVAL: not a listening socket).
   */
  serverListenFd(server: number, fd: number): ListenResult | undefined;
  /**
   * A bound, listening TCP socket no server of this process accepts on (close-on-exec), for a
   * supervisor to hand to the processes that serve it. Throws like serverListen.
   */
  listenSocket(host: string, port: number, backlog: number, ipv6Only: boolean, reusePort: boolean): ListenResult & { fd: number };
  /**
   * A listening unix domain socket at `path` no server of this process accepts on, for a
   * supervisor to hand down (as listenSocket); its descriptor. The socket file stays until the
   * caller removes it. Throws like serverListenUnix.
   */
  listenUnixSocket(path: Buffer, backlog: number, readableAll: boolean, writableAll: boolean): number;
  /** Requests read by every server of this thread so far. */
  requestsRead(): number;
  /** Every server logs its responses to `fd`, one line each (JSON, or common log format); fd -1 stops. */
  accessLog(fd: number, json: boolean): void;
  /** Writes the access log's buffered lines now. */
  accessLogFlush(): void;
  /** Stops accepting (a unix socket's file is removed). Open connections go on. */
  serverStopListening(server: number, graceMs: number): void;
  serverCloseIdle(server: number): void;
  serverCloseAll(server: number): void;
  serverConnectionCount(server: number): number;
  serverSetLimits(server: number, limits: NativeLimits): void;
  /** Frees the server once it has stopped listening and has no connections. */
  serverDestroy(server: number): void;
  /** Which connection events (ConnectionEvents bits) the server's callbacks hear of. */
  serverWatch(server: number, events: number): void;
  /** node's server.ref() (true) / unref() (false): whether the listening socket keeps the process alive. */
  serverRef(server: number, keepAlive: boolean): void;

  /**
   * A complete response in one call. `status` may carry StatusOption bits. `reason` undefined:
   * the standard phrase. `head` is the header block ("Name: value\r\n" lines) or the id of a registered one.
   */
  respond(token: number, status: number, reason: string | undefined, head: string | number, body: string | Buffer | undefined): void;
  /** Starts a streamed response. `contentLength` -1 = unknown (chunked, or close-delimited for 1.0). */
  writeHead(token: number, status: number, reason: string | undefined, head: string | number | Buffer, contentLength: number): void;
  /** Checks a header block once and returns an id to pass as `head` from then on. */
  registerBlock(head: string): number;
  releaseBlock(id: number): void;
  /** Returns false once the connection's unsent output passes the high-water mark (onDrain follows). */
  write(token: number, chunk: string | Buffer): boolean;
  /** Ends a streamed response; `trailers` is a header block sent after a chunked body. */
  end(token: number, chunk: string | Buffer | undefined, trailers: string): void;
  writeContinue(token: number): void;
  /**
   * The header fields as received: "Name: value" lines joined by CRLF (Latin-1, as node decodes
   * them); undefined once the connection is gone. One call; split in JavaScript when needed.
   */
  headerText(token: number): string | undefined;
  /** Trailer fields of a chunked body, flattened [name, value, ...]. */
  trailers(token: number): string[] | undefined;
  /** The bytes read past an upgrade or CONNECT request awaiting its answer, as Latin-1 (taken: they are no longer input). */
  takeHeldInput(token: number): string | undefined;
  /** The request body goes on to onData/onEnd after the response is complete (else the engine discards it). */
  wantBody(token: number): void;
  pause(token: number): void;
  resume(token: number): void;
  /** Closes the exchange's connection at once. */
  destroy(token: number): void;
  /** Closes the exchange's connection at once with a TCP reset, unsent output dropped. */
  reset(token: number): void;
  /** Reads no more requests on the token's connection; it closes once the responses owed are sent. */
  endConnection(token: number): void;
  /** Bytes sent as-is as a refused request's answer, while a 'clientError' listener runs; false otherwise. */
  connectionWrite(token: number, data: Uint8Array): boolean;
  /**
   * The connection's socket.write(): bytes sent as-is now, in the place of the exchange being
   * answered. Anything but a whole 1xx head hands the connection to the application: no more
   * requests are read, and endConnection then closes it once the bytes are out.
   */
  connectionWriteRaw(token: number, data: Uint8Array): void;
  /** Bytes sent as-is in the exchange's place (an interim 1xx head, or as connectionWriteRaw). */
  writeRaw(token: number, data: string | Uint8Array): void;
  socketInfo(token: number): SocketInfo;
  /** Bytes written on the token's connection so far, unsent ones included (0 once it is gone). */
  bytesWritten(token: number): number;

  // ---- router (framework) ----
  routerCreate(): number;
  routerDestroy(router: number): void;
  /** Throws if the name is taken or the regex is invalid. */
  routerAddConverter(router: number, name: string, pattern: string): void;
  /** Returns the new route id; throws on an invalid pattern or a conflict (naming both routes). */
  routerAdd(router: number, methods: string[], pattern: string): number;
  /** The id of the route `methods pattern` would conflict with, or -1. */
  routerConflict(router: number, methods: string[], pattern: string): number;
  routerRemove(router: number, route: number): boolean;
  /** `path` percent-encoded, without the query. route -1: not found, -2: method not allowed. */
  routerLookup(router: number, method: string, path: string): { route: number; params: (string | number)[] };
  /** Methods some route takes for `path` (HEAD wherever GET is), sorted. */
  routerAllow(router: number, path: string): string[];
}

function load(): Binding {
  // The addon's exports object is in dictionary mode (its functions are added one by one), and
  // optimized code cannot inline a load from such an object: each binding call would go through a
  // generic property lookup. A copy made in one go has fast properties.
  return { ...(loadNative(processEnvironment()) as Binding) };
}

export const binding: Binding = load();
