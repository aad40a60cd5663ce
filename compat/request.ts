// The request side: an http.IncomingMessage (its prototype inherits from node's, so instanceof
// holds and node's getters and Readable methods run on it) built without node's constructor.
//
// Most requests are never read as a stream: no body, and nobody listens for 'data' or 'end'.
// So the Readable state is made on first use: node's stream methods all reach it through
// `this._readableState`, which here is an accessor on the prototype that builds it, with the
// end of the body already pushed when the body is complete. A request with a body gets its
// state at once (the engine feeds it). Express's prototypes always inherit from ours (see
// app-prototypes.ts), so the accessor is there for its requests too.
import { type IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Exchange } from '../src/engine/exchange';
import { forEachHeaderField, splitHeaderText } from '../src/engine/headers';
import {
  type IncomingInternals, kHeaders, kHeadersCount, kTrailers, kTrailersCount, NODE_HIGH_WATER_MARK, ReadableState, type ReadableStateLike,
} from './node-internals';
import { PyreSocket } from './socket';
import type { UpgradeSocket } from './upgrade-socket';

const nodeRead = IncomingMessage.prototype._read;
const nodeHeaders = Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'headers') as { get(this: IncomingMessage): IncomingHttpHeaders };

export interface RequestOptions {
  /** Node's `joinDuplicateHeaders`: join repeated fields with ', ' instead of keeping the first. */
  joinDuplicateHeaders: boolean;
  /** Node's `server.maxHeadersCount`: fields beyond it are dropped (0 or null = no limit here). */
  maxHeadersCount: number | null;
}

/** The members of node's IncomingMessage the class inherits at run time (see the end of the file). */
export interface PyreIncomingMessage extends IncomingMessage, Omit<IncomingInternals, '_readableState'> {
  /** The header section as the engine received it (see rawHeaders); null once rawHeaders is own. */
  _pyreHeadText: string | null;
  _pyreOptions: RequestOptions;
  /** Node's flag for a request emitted as 'upgrade' (@types/node leaves it out). */
  upgrade: boolean;
  /** The exchange that feeds the body, for a request that has one. */
  _pyreBody: Exchange | null;
  /** The Readable state has been made (Object.hasOwn would say so too, at ~100 instructions a request). */
  _pyreStreamMade: boolean;
}

/** A request's socket: a PyreSocket (which feeds the request's body), or an UpgradeSocket for 'upgrade'. */
type RequestSocket = PyreSocket | UpgradeSocket;

export class PyreIncomingMessage {
  constructor(exchange: Exchange, socket: RequestSocket, options: RequestOptions) {
    PyreIncomingMessage.init(this, exchange, socket, options);
  }

  /** The constructor's work; constructors with an app's prototype run it too (app-prototypes.ts). */
  static init(req: PyreIncomingMessage, exchange: Exchange, socket: RequestSocket, options: RequestOptions): void {
    // Only what differs per request is set here; node's other fields start from the defaults on
    // the prototype (see the end of the file) and become own when node's methods change them.
    const self = req as unknown as Record<string | symbol, unknown>;
    // One string now (the engine lets go of the head once the response is done); split into
    // rawHeaders only if someone reads them, and node builds `headers` from those on first access.
    req._pyreHeadText = exchange.headerText();
    req._pyreOptions = options;
    req.socket = socket as never;
    self.client = socket;
    req.url = exchange.url;
    req.method = exchange.method;
    req.complete = !exchange.hasBody;
    if (exchange.httpVersion === '1.0') {
      req.httpVersionMinor = 0;
      req.httpVersion = '1.0';
    }
    if (options.joinDuplicateHeaders) req.joinDuplicateHeaders = true;
    if (socket instanceof PyreSocket) socket.request = req as never;
    if (!req.complete) {
      req._pyreBody = exchange;
      PyreIncomingMessage.openStream(req);
    }
  }

  /** Node's _read resumes the socket; here each request's body flows from its own exchange. */
  _read(size: number): void {
    // A request node's server made (its prototype set to an Express app's, which inherits from ours).
    if (this._pyreOptions === undefined) return nodeRead.call(this, size);
    if (!this._consuming) {
      this._readableState.readingMore = false;
      this._consuming = true;
    }
    const exchange = this._pyreBody;
    if (exchange === null) return;
    if (exchange.ondata === null) PyreIncomingMessage.feedBody(this, exchange);
    else exchange.resume();
  }

  /** Starts the body's flow: chunks are pushed as they come; a full buffer pauses the connection until _read. */
  private static feedBody(req: PyreIncomingMessage, exchange: Exchange): void {
    const socket = req.socket as unknown as PyreSocket;
    exchange.ondata = (chunk) => {
      socket.active();
      if (!req.push(chunk)) exchange.pause();
    };
    exchange.onend = () => {
      req.complete = true;
      const trailers = exchange.rawTrailers();
      if (trailers.length > 0) req._addHeaderLines(trailers, trailers.length);
      req.push(null);
    };
  }

  /** Node's rawHeaders, split from the head text on first use (maxHeadersCount applied). */
  get rawHeaders(): string[] {
    const raw = PyreIncomingMessage.splitHead(this);
    this.rawHeaders = raw;
    return raw;
  }
  set rawHeaders(raw: string[]) {
    Object.defineProperty(this, 'rawHeaders', { value: raw, writable: true, enumerable: true, configurable: true });
    // From now on node's getters read the own rawHeaders (the application may have replaced it).
    this._pyreHeadText = null;
  }

  private static splitHead(req: PyreIncomingMessage): string[] {
    const raw = splitHeaderText(req._pyreHeadText as string);
    const max = req._pyreOptions.maxHeadersCount;
    return max && raw.length > max * 2 ? raw.slice(0, max * 2) : raw;
  }

  /**
   * Node's `headers`, built on first use as node's getter builds it (node's own _addHeaderLine
   * merges the fields), but from the head text: rawHeaders stays unmade unless someone reads it,
   * which spares making it an own property (Object.defineProperty costs more than the rest).
   */
  get headers(): IncomingHttpHeaders {
    const self = this as unknown as { [kHeaders]: IncomingHttpHeaders | null };
    const built = self[kHeaders];
    if (built) return built;
    // Node's getter, over rawHeaders: for node's own objects, once rawHeaders was made, or for a
    // limit that is not a whole number of fields (rawHeaders cuts it as it always did).
    if (typeof this._pyreHeadText !== 'string') return nodeHeaders.get.call(this);
    const max = this._pyreOptions.maxHeadersCount;
    if (max !== null && !(max >= 0 && max % 1 === 0)) return nodeHeaders.get.call(this);
    self[kHeaders] = {};
    forEachHeaderField(this._pyreHeadText, max || Infinity, PyreIncomingMessage.addHeaderField, this);
    return self[kHeaders] as IncomingHttpHeaders;
  }

  private static addHeaderField(name: string, value: string, req: PyreIncomingMessage): void {
    req._addHeaderLine(name, value, (req as unknown as { [kHeaders]: IncomingHttpHeaders })[kHeaders]);
  }
  set headers(headers: IncomingHttpHeaders) {
    (this as unknown as { [kHeaders]: IncomingHttpHeaders })[kHeaders] = headers;
  }

  /** Node's count of raw header entries, which its `headers` getter walks. */
  get [kHeadersCount](): number {
    return this.rawHeaders.length;
  }
  set [kHeadersCount](count: number) {
    Object.defineProperty(this, kHeadersCount, { value: count, writable: true, enumerable: false, configurable: true });
  }

  /** Node's Readable state, made on first use; see the top of this file. */
  get _readableState(): ReadableStateLike {
    return PyreIncomingMessage.openStream(this);
  }
  set _readableState(state: ReadableStateLike) {
    Object.defineProperty(this, '_readableState', { value: state, writable: true, enumerable: true, configurable: true });
  }

  private static openStream(req: PyreIncomingMessage): ReadableStateLike {
    const state = new ReadableState({ highWaterMark: NODE_HIGH_WATER_MARK }, req as never, false);
    // As node's constructor: the socket feeds the body, so no read-ahead until someone reads.
    state.readingMore = true;
    req._readableState = state;
    req._pyreStreamMade = true;
    if (req.complete) req.push(null);
    if (req._dumped) {
      // The response ended before anyone looked: end the stream as node's dump would have.
      req._dumped = false;
      req._dump();
    }
    return state;
  }

  /** The response is complete: the engine drops any unread body, so the request ends here, as node's does once dumped. */
  static responseDone(req: PyreIncomingMessage): void {
    if (!req._pyreStreamMade) {
      // Nobody has looked at the stream: remember, and end it if someone ever does.
      req._dumped = true;
      return;
    }
    const reading = req._consuming || req._readableState.resumeScheduled;
    if (!req.complete) {
      if (reading && req._pyreBody !== null) {
        // Someone reads the body: as on node it flows on to its end (trailers included).
        req._pyreBody.readBodyPastResponse();
        return;
      }
      req.complete = true;
      req.push(null);
    }
    if (!reading) req._dump();
  }
}
Object.setPrototypeOf(PyreIncomingMessage.prototype, IncomingMessage.prototype);
// The fields node's IncomingMessage constructor and HTTP parser set, with their values for an
// HTTP/1.1 request. Only immutable values: node replaces them, never changes them in place.
Object.assign(PyreIncomingMessage.prototype, {
  [kHeaders]: null,
  [kTrailers]: null,
  [kTrailersCount]: 0,
  httpVersionMajor: 1,
  httpVersionMinor: 1,
  httpVersion: '1.1',
  complete: false,
  rawTrailers: Object.freeze([]),
  joinDuplicateHeaders: false,
  aborted: false,
  upgrade: false,
  statusCode: null,
  statusMessage: null,
  _consuming: false,
  _dumped: false,
  _pyreBody: null,
  _pyreStreamMade: false,
});
