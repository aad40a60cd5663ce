// One HTTP exchange on the fast path: the request as received and the response being made.
// A single object per request keeps allocation low; the engine holds the bytes, JS holds a token.
import { AbortReason, binding, connectionOf, RequestFlags, type SocketInfo, StatusOption, statusWord } from './binding';
import { headerBlock, type HeadersInit, splitHeaderText, trailerBlock } from './headers';

export type Body = string | Buffer | Uint8Array;

/** Thrown to body readers when the exchange ends before its body does. */
export class RequestAbortedError extends Error {
  readonly code = 'ECONNRESET';
  constructor(readonly reason: AbortReason) {
    super(abortMessage(reason));
    this.name = 'RequestAbortedError';
  }
}

function abortMessage(reason: AbortReason): string {
  switch (reason) {
    case AbortReason.BadBody: return 'request body is malformed or too large';
    case AbortReason.Timeout: return 'request timed out';
    case AbortReason.Destroyed: return 'connection destroyed by the server';
    case AbortReason.Reset: return 'client reset the connection';
    default: return 'client closed the connection';
  }
}

const enum State { Head, Streaming, Finished }

/**
 * The AbortControllers behind `Exchange.signal`, made only for exchanges whose signal was asked
 * for: an exchange carries no field for it, so an application that never asks pays nothing.
 */
let abortControllers: WeakMap<Exchange, AbortController> | null = null;

function toBuffer(chunk: Body): string | Buffer {
  return typeof chunk === 'string' || Buffer.isBuffer(chunk)
    ? chunk
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export class Exchange {
  /** Request body chunks that arrived before anyone listened. */
  private queued: Buffer[] | null = null;
  private queuedBytes = 0;
  /** The body is complete (immediately so for a request without one). */
  private ended: boolean;
  private endDelivered = false;
  private dataListener: ((chunk: Buffer) => void) | null = null;
  private endListener: (() => void) | null = null;
  private state = State.Head;
  private pausedByQueue = false;
  private info: SocketInfo | null = null;
  private headText: string | null = null;
  private headerCache: string[] | null = null;
  private trailerCache: string[] | null = null;
  /** @internal The server tracks this exchange for later engine callbacks. */
  tracked = false;
  /** Set once the exchange ended without finishing (client gone, timeout, destroy). */
  abortReason: AbortReason | 0 = 0;
  /** Called when the client goes away before the exchange finishes. */
  onabort: ((reason: AbortReason) => void) | null = null;
  /** Called when output held back by `write()` returning false has drained. */
  ondrain: (() => void) | null = null;
  // Rare-case state, with its defaults on the prototype (see the end of the file): fields made
  // in the constructor are paid for by every request.
  /** Called when the peer ends its side behind an upgrade request not yet answered. */
  declare onpeerend: (() => void) | null;
  /** The peer has ended its side of the connection (an upgrade request's). */
  private declare peerEnded: boolean;
  /** Switched with switchToRaw(): the peer's bytes keep coming after the response ends. */
  private declare raw: boolean;
  /** readBodyPastResponse(): the body keeps coming after the response ends. */
  private declare bodyPastResponse: boolean;

  constructor(
    /** @internal */ readonly token: number,
    readonly method: string,
    /** The request-target as received (path and query, percent-encoded). */
    readonly url: string,
    /** @internal */ readonly flags: number,
    /** Route id matched by the native router, or -1. */
    readonly route: number,
    /** Converted path parameters of the matched route, in path order. */
    readonly params: readonly unknown[] | undefined,
    private readonly owner: { readonly highWaterMark: number; track(token: number, exchange: Exchange): void; release(token: number): void },
  ) {
    this.ended = (flags & RequestFlags.HasBody) === 0;
  }

  get httpVersion(): '1.0' | '1.1' {
    return this.flags & RequestFlags.Http11 ? '1.1' : '1.0';
  }
  get keepAlive(): boolean {
    return (this.flags & RequestFlags.KeepAlive) !== 0;
  }
  get hasBody(): boolean {
    return (this.flags & RequestFlags.HasBody) !== 0;
  }
  get expectsContinue(): boolean {
    return (this.flags & RequestFlags.ExpectContinue) !== 0;
  }
  /** The request carries an `Expect` field: 100-continue, or (forwardExpectations) another. */
  get hasExpectation(): boolean {
    return (this.flags & (RequestFlags.ExpectContinue | RequestFlags.ExpectOther)) !== 0;
  }
  get wantsUpgrade(): boolean {
    return (this.flags & RequestFlags.Upgrade) !== 0;
  }
  /** The path part of the request-target (before `?`), still percent-encoded. */
  get path(): string {
    const q = this.url.indexOf('?');
    return q === -1 ? this.url : this.url.slice(0, q);
  }
  /** The query string after `?`, or ''. */
  get query(): string {
    const q = this.url.indexOf('?');
    return q === -1 ? '' : this.url.slice(q + 1);
  }
  /** The id of the connection the request came on: the same for every request of a keep-alive connection. */
  get connection(): number {
    return connectionOf(this.token);
  }
  get headersSent(): boolean {
    return this.state !== State.Head;
  }
  get finished(): boolean {
    return this.state === State.Finished;
  }

  /**
   * The header fields as received, one string: "Name: value" lines joined by CRLF (Latin-1, as
   * node decodes them). Read it (or rawHeaders()) before the response is complete: the engine
   * lets go of the head then.
   */
  headerText(): string {
    if (this.headText === null) this.headText = (this.abortReason ? undefined : binding.headerText(this.token)) ?? '';
    return this.headText;
  }

  /** Header fields as received: [name, value, name, value, ...], names in their original case. */
  rawHeaders(): string[] {
    if (this.headerCache === null) this.headerCache = splitHeaderText(this.headerText());
    return this.headerCache;
  }

  /** A header's value (name case-insensitive); repeated fields joined with ", ". */
  header(name: string): string | undefined {
    const raw = this.rawHeaders();
    const wanted = name.toLowerCase();
    let found: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].length === wanted.length && raw[i].toLowerCase() === wanted) {
        found = found === undefined ? raw[i + 1] : `${found}, ${raw[i + 1]}`;
      }
    }
    return found;
  }

  /** Trailer fields of a chunked body, flattened like rawHeaders(); complete after the body ends. */
  rawTrailers(): string[] {
    return this.trailerCache ?? [];
  }

  socket(): SocketInfo {
    if (this.info === null) {
      this.info = binding.socketInfo(this.token);
    }
    return this.info;
  }

  // ---- request body ----

  /** Receive body chunks. Chunks that arrived earlier are delivered first. */
  set ondata(listener: ((chunk: Buffer) => void) | null) {
    this.dataListener = listener;
    if (listener !== null && this.queued !== null) {
      const queued = this.queued;
      this.queued = null;
      this.queuedBytes = 0;
      if (this.pausedByQueue) {
        this.pausedByQueue = false;
        binding.resume(this.token);
      }
      for (const chunk of queued) listener(chunk);
    }
    if (listener !== null) this.continueIfAsked();
    this.maybeEnd();
  }
  get ondata(): ((chunk: Buffer) => void) | null {
    return this.dataListener;
  }

  /** Called once the body is complete (at once if it already is). */
  set onend(listener: (() => void) | null) {
    this.endListener = listener;
    this.maybeEnd();
  }
  get onend(): (() => void) | null {
    return this.endListener;
  }

  /**
   * @internal The drop-in's `head` for 'upgrade' and 'connect': the bytes already read past the
   * request (an upgrade or CONNECT awaiting its answer), taken out of the input: the raw stream's
   * 'data' starts after them.
   */
  takeHeldInput(): Buffer {
    const held = this.abortReason ? undefined : binding.takeHeldInput(this.token);
    return held ? Buffer.from(held, 'latin1') : Buffer.alloc(0);
  }

  /**
   * @internal The drop-in: the request body keeps arriving after the response is complete, to
   * its end (node's request stays readable while someone reads it; the engine would otherwise
   * discard what is left).
   */
  readBodyPastResponse(): void {
    if (this.ended || this.abortReason) return;
    binding.wantBody(this.token);
    this.bodyPastResponse = true;
    if (!this.tracked) {
      this.tracked = true;
      this.owner.track(this.token, this);
    }
  }

  /** Stop reading the connection (body backpressure). */
  pause(): void {
    if (!this.abortReason && !this.ended) binding.pause(this.token);
  }
  resume(): void {
    if (!this.abortReason && !this.ended) binding.resume(this.token);
  }

  /** The whole body. Rejects with RangeError beyond `limit` bytes, RequestAbortedError if the client goes away. */
  body(limit = Infinity): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.onabort = (reason) => reject(new RequestAbortedError(reason));
      if (this.abortReason) return reject(new RequestAbortedError(this.abortReason));
      this.ondata = (chunk) => {
        size += chunk.length;
        if (size > limit) {
          this.ondata = null;
          this.onend = null;
          reject(new RangeError(`request body exceeds ${limit} bytes`));
          return;
        }
        chunks.push(chunk);
      };
      this.onend = () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
  }

  /** Send `100 Continue` now; setting `ondata` (or calling body()) does it by itself. */
  writeContinue(): void {
    if (!this.abortReason && this.state === State.Head) binding.writeContinue(this.token);
  }

  private continueIfAsked(): void {
    if (this.flags & RequestFlags.ExpectContinue && this.state === State.Head && !this.abortReason) {
      binding.writeContinue(this.token);
    }
  }

  // ---- response ----

  /** A complete response in one call: the common case, one native call and one write. */
  respond(status: number, body?: Body, headers?: HeadersInit, reason?: string): void {
    this.respondBlock(status, body, headerBlock(headers), reason);
  }

  /**
   * Like respond(), with `block` the header lines ("Name: value\r\n" each) already validated by
   * the caller (token names; values without CR, LF or NUL) or a registered block's id. The
   * engine still checks the line structure, not each value's characters. `sendDate` false: no
   * Date line. `connectionLines`: bytes at the block's end that are Connection lines (with the
   * nodeCompat option, Date goes before them, as node writes it).
   */
  respondBlock(status: number, body: Body | undefined, block: string | number, reason?: string, sendDate = true, connectionLines = 0): void {
    if (this.abortReason) return this.finish();
    this.startResponse();
    binding.respond(this.token, statusWord(status, block, reason, sendDate, connectionLines), reason, block, body === undefined ? undefined : toBuffer(body));
    this.finish();
  }

  /** Start a streamed response; without `contentLength` the body is chunked (close-delimited for HTTP/1.0). */
  writeHead(status: number, headers?: HeadersInit, contentLength = -1, reason?: string): void {
    this.writeHeadBlock(status, headerBlock(headers), contentLength, reason);
  }

  /**
   * Like writeHead(), with a caller-validated `block`, `sendDate` and `connectionLines` as for
   * respondBlock(); `untilClose`: a block without framing fields makes the body close-delimited,
   * with no framing or Connection field added (StatusOption.UntilClose).
   */
  writeHeadBlock(status: number, block: string | number, contentLength = -1, reason?: string, sendDate = true, connectionLines = 0, untilClose = false): void {
    if (this.abortReason) return;
    this.startResponse();
    binding.writeHead(this.token, statusWord(status, block, reason, sendDate, connectionLines, untilClose), reason, block, contentLength);
    this.state = State.Streaming;
    // After a 101 (or a 2xx opening a CONNECT tunnel) the connection's raw input is this
    // exchange's body, until the peer ends it.
    if (status === 101 || (status >= 200 && status < 300 && this.method === 'CONNECT')) this.ended = false;
  }

  /**
   * @internal The drop-in's 'upgrade' socket: the bytes the listener wrote first (its response
   * head) go out as written, and the connection is raw both ways from here, whatever they say,
   * as node hands its socket to the listener: the peer's bytes arrive through `ondata` until its
   * end (`onend`), also after `end()`, which half-closes the connection.
   */
  switchToRaw(first: Buffer): void {
    if (this.abortReason) return;
    this.startResponse();
    binding.writeHead(this.token, StatusOption.RawHead, undefined, first, -1);
    this.state = State.Streaming;
    this.raw = true;
    this.ended = this.peerEnded;
    // The engine tells this exchange of input until the peer ends, also after end().
    if (!this.tracked) {
      this.tracked = true;
      this.owner.track(this.token, this);
    }
  }

  /** Close the connection at once with a TCP reset (node's `resetAndDestroy()`); the exchange aborts. */
  reset(): void {
    if (!this.abortReason) binding.reset(this.token);
  }

  /** Returns false when the caller should wait for `ondrain` before writing more. */
  write(chunk: Body): boolean {
    if (this.abortReason) return false;
    if (this.state === State.Head) this.writeHead(200);
    if (this.state === State.Finished) throw new Error('pyre: write after end');
    return binding.write(this.token, toBuffer(chunk));
  }

  /** Finish a streamed response, with an optional last chunk and trailers (chunked bodies only). */
  end(chunk?: Body, trailers?: HeadersInit): void {
    if (this.abortReason) return this.finish();
    if (this.state === State.Head) this.writeHead(200, undefined, chunk === undefined ? 0 : Buffer.byteLength(toBuffer(chunk)));
    if (this.state === State.Finished) return;
    this.finish();
    binding.end(this.token, chunk === undefined ? undefined : toBuffer(chunk), trailerBlock(trailers));
  }

  /**
   * Bytes sent as-is in this exchange's place, past the engine's framing: an interim response
   * (a whole `HTTP/1.1 1xx` head, e.g. 103 Early Hints) before the response, or anything else,
   * after which the connection is the application's: no more requests are read on it, and it
   * closes after this exchange's response (or at `destroy()`).
   */
  writeRaw(data: Body): void {
    if (!this.abortReason && this.state !== State.Finished) binding.writeRaw(this.token, toBuffer(data));
  }

  /** Close the connection at once; the exchange aborts. */
  destroy(): void {
    if (!this.abortReason) binding.destroy(this.token);
  }

  private finish(): void {
    this.state = State.Finished;
    if (this.tracked) {
      // A raw exchange hears of input until the peer's end (deliverEnd lets it go then).
      if (this.raw && !this.endDelivered) return;
      this.owner.release(this.token);
    }
  }

  private startResponse(): void {
    if (this.state !== State.Head) throw new Error('pyre: response already started');
  }

  // ---- called by the server ----

  /** @internal */
  deliver(chunk: Buffer): void {
    if (this.dataListener !== null) {
      this.dataListener(chunk);
      return;
    }
    (this.queued ??= []).push(chunk);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > this.owner.highWaterMark && !this.pausedByQueue) {
      this.pausedByQueue = true;
      binding.pause(this.token);
    }
  }

  /** @internal */
  deliverEnd(): void {
    if (this.state === State.Head && this.wantsUpgrade) {
      // The peer ended behind an upgrade request that is still unanswered.
      this.peerEnded = true;
      this.onpeerend?.();
      return;
    }
    // Trailers are read now: the engine forgets the request once its response is done.
    if (this.flags & RequestFlags.Chunked) this.trailerCache = binding.trailers(this.token) ?? [];
    this.ended = true;
    this.maybeEnd();
    if ((this.raw || this.bodyPastResponse) && this.state === State.Finished && this.tracked) this.owner.release(this.token);
  }

  /** Calls the end listener once, after every queued chunk has been handed over. */
  private maybeEnd(): void {
    if (this.ended && !this.endDelivered && this.queued === null && this.endListener !== null) {
      this.endDelivered = true;
      this.endListener();
    }
  }

  /**
   * Aborted, with a RequestAbortedError as its reason, when the exchange ends without finishing
   * (the client closed or reset the connection, a timeout, destroy()): hand it to fetch, timers,
   * streams or database calls working for this request. Made on first use; it never aborts once
   * the response is complete.
   */
  get signal(): AbortSignal {
    let controller = abortControllers?.get(this);
    if (controller === undefined) {
      controller = new AbortController();
      (abortControllers ??= new WeakMap()).set(this, controller);
      if (this.abortReason) controller.abort(new RequestAbortedError(this.abortReason));
    }
    return controller.signal;
  }

  /** @internal */
  deliverAbort(reason: AbortReason): void {
    this.abortReason = reason;
    abortControllers?.get(this)?.abort(new RequestAbortedError(reason));
    this.onabort?.(reason);
  }
}

Object.assign(Exchange.prototype, { onpeerend: null, peerEnded: false, raw: false, bodyPastResponse: false });
