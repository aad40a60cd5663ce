// The response side: an http.ServerResponse (its prototype inherits from node's, so instanceof
// holds and node's own setHeader, getHeader, headersSent, writableEnded, ... run on it), built
// without node's constructor, whose sending methods go to the engine. The whole response is kept
// in JS until end(), then handed to the engine in one call.
//
// Express gives res its own prototype, which always inherits from ours (see app-prototypes.ts).
// node:buffer's Buffer rather than the global one: node's global is a getter, run on every use.
import { Buffer } from 'node:buffer';
import { ServerResponse, STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import type { Exchange } from '../src/engine/exchange';
import type { HeaderValue } from '../src/engine/headers';
import {
  kBytesWritten, kCorked, kErrored, kHighWaterMark, kNeedDrain, kOutHeaders, kRejectNonStandardBodyWrites, NODE_HIGH_WATER_MARK, nodeResponse,
  type OutHeaders,
} from './node-internals';
import { PyreIncomingMessage } from './request';
import { FieldCollector, type ResponseHead } from './response-head';
import type { PyreSocket } from './socket';

type Chunk = string | Buffer | Uint8Array;
type WriteCallback = (error?: Error | null) => void;
type HeadersArgument = Record<string, HeaderValue | undefined> | readonly (string | number | readonly string[])[] | readonly [string, HeaderValue][];

const CHUNKED = /(?:^|\W)chunked(?:$|\W)/i;
const INVALID_STATUS_MESSAGE = /[^\t\x20-\x7e\x80-\xff]/;

function statusForbidsBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

function isChunk(chunk: unknown): chunk is Chunk {
  return typeof chunk === 'string' || chunk instanceof Uint8Array;
}

function byteLength(chunk: Chunk, encoding: BufferEncoding | undefined): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.byteLength;
}

/**
 * Strings in a non-UTF-8 encoding become bytes here; the engine writes strings as UTF-8. No
 * encoding (undefined, or null as Fastify passes) means UTF-8, as in node.
 */
function toBody(chunk: Chunk, encoding: BufferEncoding | null | undefined): Chunk {
  return typeof chunk === 'string' && encoding && encoding !== 'utf8' && encoding !== 'utf-8'
    ? Buffer.from(chunk, encoding)
    : chunk;
}

/**
 * The response has gone to the engine: 'finish', then 'close', on the tick after end() (node's
 * 'close' comes a tick later still). Not scheduled when nobody listens at end(): see end().
 */
function emitFinishAndClose(res: PyreServerResponse): void {
  res.emit('finish');
  emitClose(res);
}

function emitClose(res: ServerResponse): void {
  const state = res as ServerResponse & { _closed: boolean };
  if (state._closed) return;
  state._closed = true;
  res.destroyed = true;
  res.emit('close');
}

/** Node's own fields the class sets and reads; @types/node does not declare them. */
interface OutgoingInternals {
  _header: string | null;
  _hasBody: boolean;
  _last: boolean;
  _sent100: boolean;
  _expect_continue: boolean;
  _contentLength: number | null;
  _removedConnection: boolean;
  _removedContLen: boolean;
  _removedTE: boolean;
  _keepAliveTimeout: number;
  _maxRequestsPerSocket: number;
  _closed: boolean;
  _implicitHeader(): void;
  useChunkedEncodingByDefault: boolean;
}

/** The members of node's ServerResponse the class inherits at run time (see the end of the file). */
export interface PyreServerResponse extends ServerResponse, OutgoingInternals {}

export class PyreServerResponse {
  /** The header section for the engine, fixed by writeHead(); framing fields are the engine's. */
  private declare head: ResponseHead;
  /** Content-Length the response declared, or -1 when the body's length is not known up front. */
  private declare declaredLength: number;
  /** Content-Length or Transfer-Encoding came from the application's own fields. */
  private declare declaresFraming: boolean;
  /** The body is close-delimited, as node sends it once both framing fields were removed. */
  private declare untilClose: boolean;
  /** The engine's streamed response has begun (headers on the wire). */
  private declare streaming: boolean;
  private declare trailerFields: Record<string, string> | undefined;
  /** @internal */ declare readonly exchange: Exchange;

  constructor(req: PyreIncomingMessage, exchange: Exchange, socket: PyreSocket, keepAliveTimeout: number) {
    PyreServerResponse.init(this, req, exchange, socket, keepAliveTimeout);
  }

  /** The constructor's work; constructors with an app's prototype run it too (app-prototypes.ts). */
  static init(res: PyreServerResponse, req: PyreIncomingMessage, exchange: Exchange, socket: PyreSocket, keepAliveTimeout: number): void {
    // Only what differs per response is set here; node's other fields start from the defaults
    // on the prototype (see the end of the file) and become own when node's methods change them.
    const self = res as unknown as Record<string, unknown>;
    self.socket = socket;
    self.req = req;
    (res as { exchange: Exchange }).exchange = exchange;
    res.shouldKeepAlive = exchange.keepAlive;
    res._keepAliveTimeout = keepAliveTimeout;
    if (req.method === 'HEAD') res._hasBody = false;
    if (exchange.expectsContinue) res._expect_continue = true;
    if (exchange.httpVersion === '1.0') res.useChunkedEncodingByDefault = CHUNKED.test(String(req.headers.te ?? ''));
    socket._httpMessage = res as never;
    exchange.onabort = () => PyreServerResponse.connectionLost(res);
  }

  /** The connection went away before the response was complete: what node does on socket close. */
  private static connectionLost(res: PyreServerResponse): void {
    // The socket is gone first, as in node, so destroying the request does not destroy it again.
    (res.socket as unknown as PyreSocket).connectionLost();
    if (!res.req.destroyed) res.req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    process.nextTick(emitClose, res);
  }

  writeHead(statusCode: number, reason?: string | HeadersArgument, headers?: HeadersArgument): this {
    if (this.exchange === undefined) return nodeResponse.writeHead.call(this, statusCode, reason, headers) as this;
    if (this._header || !((statusCode | 0) >= 100 && (statusCode | 0) <= 999)) {
      // Node's own method throws the error node throws (headers sent, bad status code).
      nodeResponse.writeHead.call(this, statusCode, reason, headers);
    }
    statusCode |= 0;
    if (typeof reason === 'string') {
      this.statusMessage = reason;
    } else {
      if (!this.statusMessage) this.statusMessage = STATUS_CODES[statusCode] ?? 'unknown';
      headers ??= reason;
    }
    this.statusCode = statusCode;
    if (this.statusMessage !== STATUS_CODES[statusCode] && INVALID_STATUS_MESSAGE.test(this.statusMessage)) {
      nodeResponse.writeHead.call(this, statusCode, this.statusMessage, undefined);
    }
    if (statusForbidsBody(statusCode)) this._hasBody = false;
    if (this._expect_continue && !this._sent100) this.shouldKeepAlive = false;
    PyreServerResponse.storeHead(this, PyreServerResponse.collectHeaders(this, headers));
    return this;
  }

  /** The header fields in sending order, validated, merged as node merges them. */
  private static collectHeaders(res: PyreServerResponse, headers: HeadersArgument | undefined): ResponseHead {
    const stored = (res as unknown as { [kOutHeaders]: OutHeaders | null })[kOutHeaders];
    if (stored !== null) {
      if (Array.isArray(headers)) {
        PyreServerResponse.setHeadersFromArray(res, headers);
      } else if (headers) {
        for (const name of Object.keys(headers)) {
          if (name) res.setHeader(name, (headers as Record<string, HeaderValue>)[name] as never);
        }
      }
      // setHeader() validated these.
      const collector = FieldCollector.begin(res, false);
      for (const key in stored) {
        const field = stored[key];
        collector.add(field[0], field[1]);
      }
      return collector.finish();
    }
    if (Array.isArray(headers)) {
      if (headers.length > 0 && Array.isArray(headers[0])) {
        const collector = FieldCollector.begin(res, true);
        for (const [name, value] of headers as readonly [string, HeaderValue][]) collector.add(name, value);
        return collector.finish();
      }
      if (headers.length % 2 !== 0) nodeResponse.writeHead.call(res, res.statusCode, headers);
      const collector = FieldCollector.begin(res, true);
      for (let i = 0; i < headers.length; i += 2) collector.add(headers[i], headers[i + 1]);
      return collector.finish();
    }
    const collector = FieldCollector.begin(res, true);
    if (headers) {
      for (const name in headers) {
        if (Object.prototype.hasOwnProperty.call(headers, name)) collector.add(name, (headers as Record<string, unknown>)[name]);
      }
    }
    return collector.finish();
  }

  private static setHeadersFromArray(res: PyreServerResponse, headers: HeadersArgument & readonly unknown[]): void {
    if (headers.length % 2 !== 0) nodeResponse.writeHead.call(res, res.statusCode, headers);
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (name) res.setHeader(name, headers[i + 1] as never);
    }
  }

  /**
   * Node's _storeHeader: the fields as given plus Connection/Keep-Alive as node adds them (see
   * response-head.ts). The engine adds Date (unless `sendDate` is false) and, when the fields
   * declare no framing, Content-Length or chunked coding.
   */
  private static storeHead(res: PyreServerResponse, head: ResponseHead): void {
    if (head.last) res._last = true;
    if (head.keepsAlive) res.shouldKeepAlive = true;
    const declaresFraming = head.declaresFraming;
    // end() before any header was sent: node knows the length, and so will the engine.
    const lengthKnown = typeof res._contentLength === 'number';
    // As node: without framing fields, an HTTP/1.0 client's body (unless it asked for chunks),
    // or one that may be neither chunked nor given a length, ends with the connection.
    const untilClose = !declaresFraming && res._hasBody
      && (!res.useChunkedEncodingByDefault || res._removedTE && (res._removedContLen || head.announcesTrailers || !lengthKnown));
    res.declaredLength = !declaresFraming && !untilClose && !head.announcesTrailers && !res._removedContLen && lengthKnown && res._hasBody
      ? res._contentLength as number
      : head.declaredLength;
    res.declaresFraming = declaresFraming;
    if (untilClose) {
      res.untilClose = true;
      res._last = true;
    }
    res.head = head;
    res._header = head.headerText(res.statusCode, res.statusMessage);
  }

  write(chunk: Chunk, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean {
    if (this.exchange === undefined) return nodeResponse.write.call(this, chunk, encoding, callback) as boolean;
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (this.finished || this.destroyed || !isChunk(chunk)) {
      // Node's own write reports these (write after end, destroyed, bad chunk type) as node does.
      return nodeResponse.write.call(this, chunk, encoding, callback) as boolean;
    }
    if (!this._header) this._implicitHeader();
    if (!this._hasBody) PyreServerResponse.checkBodyAllowed(this);
    if (callback) process.nextTick(callback);
    if (!this._hasBody || byteLength(chunk, encoding) === 0) {
      if (this._hasBody) PyreServerResponse.startStream(this);
      return true;
    }
    const body = toBody(chunk, encoding);
    if (this.declaredLength !== -1) PyreServerResponse.countBody(this, byteLength(body, undefined), false);
    PyreServerResponse.startStream(this);
    (this.socket as unknown as PyreSocket).active();
    const ok = this.exchange.write(body);
    if (!ok) PyreServerResponse.awaitDrain(this);
    return ok;
  }

  /**
   * Body bytes against the declared Content-Length: node's ERR_HTTP_CONTENT_LENGTH_MISMATCH (as
   * with its strictContentLength) when they would pass it, or at the end fall short of it.
   */
  private static countBody(res: PyreServerResponse, length: number, last: boolean): void {
    const state = res as unknown as { [kBytesWritten]: number };
    const total = state[kBytesWritten] + length;
    if (last ? total !== res.declaredLength : total > res.declaredLength) throw contentLengthMismatch(total, res.declaredLength);
    // Not stored by end(): the response's last count needs no field of its own.
    if (!last) state[kBytesWritten] = total;
  }

  /** A body write to a response that may have none: node's error when the server asked for it (rejectNonStandardBodyWrites). */
  private static checkBodyAllowed(res: PyreServerResponse): void {
    if ((res.socket as unknown as PyreSocket).server.rejectNonStandardBodyWrites) {
      throw Object.assign(new Error('Adding content for this request method or response status is not allowed.'), { code: 'ERR_HTTP_BODY_NOT_ALLOWED' });
    }
  }

  private static awaitDrain(res: PyreServerResponse): void {
    (res as unknown as { [kNeedDrain]: boolean })[kNeedDrain] = true;
    res.exchange.ondrain = () => {
      (res as unknown as { [kNeedDrain]: boolean })[kNeedDrain] = false;
      res.emit('drain');
    };
  }

  private static startStream(res: PyreServerResponse): void {
    if (res.streaming) return;
    res.streaming = true;
    const head = res.head;
    const header = res._header as string;
    res.exchange.writeHeadBlock(
      head.statusIn(header), head.block(), res.declaresFraming ? -1 : res.declaredLength, head.messageIn(header), res.sendDate, head.connectionLines,
      res.untilClose,
    );
  }

  end(chunk?: Chunk | (() => void), encoding?: BufferEncoding | (() => void), callback?: () => void): this {
    if (this.exchange === undefined) return nodeResponse.end.call(this, chunk, encoding, callback) as this;
    if (typeof chunk === 'function') {
      callback = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (this.finished || (chunk && !isChunk(chunk))) {
      return nodeResponse.end.call(this, chunk, encoding, callback) as this;
    }
    if (this.destroyed) {
      // The connection is gone: as node's, the response ends with no 'finish' (nor callback).
      this.finished = true;
      return this;
    }
    if (chunk && !this._hasBody) PyreServerResponse.checkBodyAllowed(this);
    const body = chunk ? toBody(chunk, encoding as BufferEncoding | undefined) : undefined;
    const length = body === undefined ? 0 : byteLength(body, undefined);
    if (!this._header) {
      (this as unknown as { _contentLength: number })._contentLength = length;
      this._implicitHeader();
    }
    if (this.declaredLength !== -1 && this._hasBody && !statusForbidsBody(this.statusCode)) {
      // node throws this with strictContentLength (and sends the broken message without it).
      PyreServerResponse.countBody(this, length, true);
    }
    if (callback) this.once('finish', callback);
    this.finished = true;
    const sent = this._hasBody ? body : undefined;
    if (this.streaming) {
      this.exchange.end(sent, this.trailerFields);
    } else if (this.declaredLength === -1 && !statusForbidsBody(this.statusCode)) {
      // Headers fixed before the length was known (or a HEAD answer without one): node sends
      // these chunked (HEAD: with no length at all), and so does the engine's streamed path.
      PyreServerResponse.startStream(this);
      this.exchange.end(sent, this.trailerFields);
    } else {
      const head = this.head;
      const header = this._header as string;
      this.exchange.respondBlock(head.statusIn(header), sent, head.block(), head.messageIn(header), this.sendDate, head.connectionLines);
    }
    (this.socket as unknown as PyreSocket).responded(this);
    PyreIncomingMessage.responseDone(this.req as unknown as PyreIncomingMessage);
    if (PyreServerResponse.awaited(this)) {
      process.nextTick(emitFinishAndClose, this);
    } else {
      // Nobody listens: the state 'close' would leave is set now, and no tick is spent.
      this._closed = true;
      this.destroyed = true;
    }
    return this;
  }

  /** Someone listens for 'finish' or 'close'. */
  private static awaited(res: PyreServerResponse): boolean {
    const events = (res as unknown as { _events?: Record<string, unknown> })._events;
    return events !== undefined && (events.finish !== undefined || events.close !== undefined);
  }

  flushHeaders(): void {
    if (this.exchange === undefined) return void nodeResponse.flushHeaders.call(this);
    if (!this._header) this._implicitHeader();
    if (!this.finished) PyreServerResponse.startStream(this);
  }

  writeContinue(callback?: () => void): void {
    if (this.exchange === undefined) return void nodeResponse.writeContinue.call(this, callback);
    this.exchange.writeContinue();
    this._sent100 = true;
    if (callback) process.nextTick(callback);
  }

  /**
   * node's raw output path, which its writeEarlyHints (103) and writeProcessing (102) write
   * through: the bytes go out as-is in this response's place (src/engine/exchange.ts writeRaw).
   */
  _writeRaw(data: Chunk, encoding?: BufferEncoding | WriteCallback | null, callback?: WriteCallback): boolean {
    if (this.exchange === undefined) return nodeResponse._writeRaw.call(this, data, encoding, callback) as boolean;
    if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined];
    // As node's: nothing is written, and no callback called, once the connection is gone.
    if (this.destroyed) return false;
    this.exchange.writeRaw(typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : data);
    if (callback) process.nextTick(callback);
    return true;
  }

  /**
   * node's lowest output call, which applications sometimes call themselves (`res._send('')` to
   * push the head out): the head goes out, then `data` as-is.
   */
  _send(data: Chunk, encoding?: BufferEncoding | WriteCallback | null, callback?: WriteCallback): boolean {
    if (this.exchange === undefined) return nodeResponse._send.call(this, data, encoding, callback) as boolean;
    if (!this._header) this._implicitHeader();
    if (!this.finished) PyreServerResponse.startStream(this);
    if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined];
    if (byteLength(data, encoding ?? undefined) > 0) return this._writeRaw(data, encoding, callback);
    if (callback) process.nextTick(callback);
    return true;
  }

  addTrailers(headers: Record<string, string> | readonly [string, string][]): void {
    if (this.exchange === undefined) return void nodeResponse.addTrailers.call(this, headers);
    const fields = this.trailerFields ?? {};
    const entries = Array.isArray(headers) ? headers : Object.entries(headers);
    for (const [name, value] of entries as [string, string][]) {
      validateHeaderName(name);
      validateHeaderValue(name, value);
      fields[name] = String(value);
    }
    this.trailerFields = fields;
  }
}

/** node's ERR_HTTP_CONTENT_LENGTH_MISMATCH (its error classes are internal). */
function contentLengthMismatch(actual: number, expected: number): Error {
  const message = `Response body's content-length of ${actual} byte(s) does not match the content-length of ${expected} byte(s) set in header`;
  return Object.assign(new Error(message), { code: 'ERR_HTTP_CONTENT_LENGTH_MISMATCH' });
}

function noop(): void {}

Object.setPrototypeOf(PyreServerResponse.prototype, ServerResponse.prototype);
// The fields node's OutgoingMessage and ServerResponse constructors set, with their initial
// values, plus ours. Only immutable values: node replaces them, never changes them in place
// (outputData is frozen so a push would throw rather than leak across responses).
Object.assign(PyreServerResponse.prototype, {
  outputData: Object.freeze([]),
  outputSize: 0,
  writable: true,
  destroyed: false,
  _last: false,
  chunkedEncoding: false,
  maxRequestsOnConnectionReached: false,
  _defaultKeepAlive: true,
  useChunkedEncodingByDefault: true,
  sendDate: true,
  _removedConnection: false,
  _removedContLen: false,
  _removedTE: false,
  strictContentLength: false,
  [kBytesWritten]: 0,
  _contentLength: null,
  _hasBody: true,
  _trailer: '',
  [kNeedDrain]: false,
  finished: false,
  _headerSent: false,
  [kCorked]: 0,
  _closed: false,
  _header: null,
  [kOutHeaders]: null,
  _keepAliveTimeout: 0,
  _maxRequestsPerSocket: 0,
  _onPendingData: noop,
  [kErrored]: null,
  [kHighWaterMark]: NODE_HIGH_WATER_MARK,
  [kRejectNonStandardBodyWrites]: false,
  _sent100: false,
  _expect_continue: false,
  head: null,
  declaredLength: -1,
  declaresFraming: false,
  untilClose: false,
  streaming: false,
  trailerFields: undefined,
});
