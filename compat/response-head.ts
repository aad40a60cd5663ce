// A response's header section as the engine takes it: the fields writeHead() was given (or
// setHeader() stored), validated as node validates them, plus the Connection/Keep-Alive lines
// node's _storeHeader adds.
//
// Most servers send the same few sections over and over (a handler's constant fields, a
// framework's content type and length). So the last sections made are remembered with their
// fields as given: a response whose fields are the same ones (=== name by name, value by value,
// in the same order) and whose connection state is the same takes the remembered section as is,
// with nothing validated or built again, and from its second use on the engine holds it as a
// registered block (neither copied nor scanned per response). Only sections whose values are all
// strings or numbers are remembered: a list or an object can change in place.
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { binding } from '../src/engine/binding';
import type { HeaderValue } from '../src/engine/headers';

export const CONNECTION_CLOSE = /(?:^|\W)close(?:$|\W)/i;
const CHUNKED = /(?:^|\W)chunked(?:$|\W)/i;

/** The response's own fields the Connection lines depend on (node's names). */
export interface ConnectionState {
  shouldKeepAlive: boolean;
  useChunkedEncodingByDefault: boolean;
  _removedConnection: boolean;
  _keepAliveTimeout: number;
  /** The server's maxRequestsPerSocket (0: none), for Keep-Alive's `max`. */
  _maxRequestsPerSocket: number;
  statusCode: number;
}

const enum ConnectionFlags {
  KeepAlive = 1,
  ChunkedByDefault = 2,
  RemovedConnection = 4,
  /** The status is 204 or 304: chunked framing is dropped and ends the connection, as in node. */
  NoContent = 8,
}

function connectionFlags(state: ConnectionState): number {
  return (state.shouldKeepAlive ? ConnectionFlags.KeepAlive : 0)
    | (state.useChunkedEncodingByDefault ? ConnectionFlags.ChunkedByDefault : 0)
    | (state._removedConnection ? ConnectionFlags.RemovedConnection : 0)
    | (state.statusCode === 204 || state.statusCode === 304 ? ConnectionFlags.NoContent : 0);
}

/** The block has no engine id yet: it gets one on the section's second use. */
const UNREGISTERED = -1;
/** Always sent as text: the section is not remembered, or the engine refused the block. */
const TEXT_ONLY = -2;

export class ResponseHead {
  /** The engine's id for `lines` once registered, else UNREGISTERED or TEXT_ONLY. */
  private id: number;
  /** Node's `_header` for the status line it was last made for. */
  private header = '';
  private headerStatus = 0;
  private headerMessage = '';

  constructor(
    /** The fields as given, [name, value, ...]; null when the section is not remembered. */
    readonly fields: readonly unknown[] | null,
    readonly flags: number,
    readonly keepAliveTimeout: number,
    readonly maxRequests: number,
    /** The header lines, "Name: value\r\n" each. */
    readonly lines: string,
    /** The connection closes after this response (node's `_last`). */
    readonly last: boolean,
    /** A Connection field other than close: node then keeps the connection open. */
    readonly keepsAlive: boolean,
    /** The Content-Length field's value, or -1. */
    readonly declaredLength: number,
    /** Content-Length or Transfer-Encoding is among the fields. */
    readonly declaresFraming: boolean,
    /** Bytes at the end of `lines` that are the Connection lines added here (Date goes before them, as in node). */
    readonly connectionLines: number,
    /** A Trailer field is among the fields: as in node, the body is then chunked, never given a length. */
    readonly announcesTrailers: boolean,
  ) {
    this.id = fields === null ? TEXT_ONLY : UNREGISTERED;
  }

  /** What the engine is given: the registered block's id, or the lines. */
  block(): string | number {
    return this.id >= 0 ? this.id : this.lines;
  }

  /**
   * The status a `_header` made by headerText() sends (node fixes it at writeHead(): a later
   * `statusCode` does not change what goes out).
   */
  statusIn(header: string): number {
    return header === this.header ? this.headerStatus : Number(header.slice(9, 12));
  }

  /** The reason phrase a `_header` made by headerText() sends. */
  messageIn(header: string): string {
    return header === this.header ? this.headerMessage : header.slice(13, header.indexOf('\r\n'));
  }

  /** Node's `_header`: status line, header lines, blank line (the engine adds Date). */
  headerText(status: number, message: string): string {
    if (status !== this.headerStatus || message !== this.headerMessage) {
      this.header = `HTTP/1.1 ${status} ${message}\r\n${this.lines}\r\n`;
      this.headerStatus = status;
      this.headerMessage = message;
    }
    return this.header;
  }

  /** Field `index` (a name's index in `fields`) is `name` with `value`. */
  hasField(index: number, name: unknown, value: unknown): boolean {
    const fields = this.fields as readonly unknown[];
    return index < fields.length && fields[index] === name && fields[index + 1] === value;
  }

  /** The section's fields begin with `fields[0..count)`. */
  startsWith(fields: readonly unknown[], count: number): boolean {
    const own = this.fields as readonly unknown[];
    if (own.length < count) return false;
    for (let i = 0; i < count; i++) if (own[i] !== fields[i]) return false;
    return true;
  }

  register(): void {
    if (this.id !== UNREGISTERED) return;
    try {
      this.id = binding.registerBlock(this.lines);
    } catch {
      // Sent as text, the engine reports the problem when the response goes out, as before.
      this.id = TEXT_ONLY;
    }
  }

  /** The section is forgotten: its block id goes back to the engine. */
  release(): void {
    if (this.id >= 0) binding.releaseBlock(this.id);
    this.id = TEXT_ONLY;
  }
}

/** How many sections are remembered. A miss costs a look at each, so few. */
const REMEMBERED = 8;
/**
 * Where a new section goes. Each use moves a section one place up; new ones start midway, so
 * sections that are never used again (a changing value) only push out each other and the
 * least used, not the sections in steady use.
 */
const INSERT_AT = REMEMBERED / 2;

class RememberedHeads {
  private readonly heads: ResponseHead[] = [];

  /** The remembered section for this connection state whose fields begin with `fields[0..count)`. */
  find(flags: number, keepAliveTimeout: number, maxRequests: number, fields: readonly unknown[], count: number): ResponseHead | null {
    for (const head of this.heads) {
      if (head.flags === flags && head.keepAliveTimeout === keepAliveTimeout && head.maxRequests === maxRequests && head.startsWith(fields, count)) {
        return head;
      }
    }
    return null;
  }

  used(head: ResponseHead): void {
    head.register();
    if (this.heads[0] === head) return;
    const at = this.heads.indexOf(head);
    if (at > 0) {
      this.heads[at] = this.heads[at - 1];
      this.heads[at - 1] = head;
    }
  }

  add(head: ResponseHead): void {
    this.heads.splice(Math.min(INSERT_AT, this.heads.length), 0, head);
    if (this.heads.length > REMEMBERED) (this.heads.pop() as ResponseHead).release();
  }
}

const remembered = new RememberedHeads();

const TOKEN_CHARS = (() => {
  const table = new Uint8Array(128);
  const token = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (let i = 0; i < token.length; i++) table[token.charCodeAt(i)] = 1;
  return table;
})();

/** What node's header name check accepts: a non-empty token. */
function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 128 || TOKEN_CHARS[code] === 0) return false;
  }
  return true;
}

/** What node's header value check accepts: tab, 0x20-0x7e and 0x80-0xff. */
function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 ? code !== 0x09 : code === 0x7f || code > 0xff) return false;
  }
  return true;
}

/**
 * Node's checks of a name and value. The common cases pass here; anything else goes to node's
 * own validateHeaderName/validateHeaderValue, so whatever is thrown is node's error.
 */
function validateField(name: unknown, value: unknown): void {
  if (typeof name !== 'string' || !isToken(name)) validateHeaderName(name as string);
  if (typeof value === 'number') return;
  if (typeof value !== 'string' || !isFieldValue(value)) validateHeaderValue(name as string, value as string);
}

/**
 * One writeHead's fields, gathered in order. Each field is checked against the remembered
 * sections as it comes: while some remembered section begins with the fields so far, they are
 * known to be valid; from the first field no remembered section has, every field is validated
 * right after it is read, which is when node validates it.
 */
export class FieldCollector {
  /** [name, value, ...] in its first `count` places, reused from one writeHead to the next. */
  private readonly fields: unknown[] = [];
  private count = 0;
  private candidate: ResponseHead | null = null;
  private flags = 0;
  private keepAliveTimeout = 0;
  private maxRequests = 0;
  private validating = true;

  private static idle: FieldCollector | null = new FieldCollector();

  /** A collector for `state`'s response; `validate` false for fields setHeader() already checked. */
  static begin(state: ConnectionState, validate: boolean): FieldCollector {
    // A getter among the fields could start another response's writeHead: it gets its own.
    const collector = FieldCollector.idle ?? new FieldCollector();
    FieldCollector.idle = null;
    collector.count = 0;
    collector.flags = connectionFlags(state);
    collector.keepAliveTimeout = state._keepAliveTimeout;
    collector.maxRequests = state._maxRequestsPerSocket;
    collector.validating = validate;
    collector.candidate = remembered.find(collector.flags, collector.keepAliveTimeout, collector.maxRequests, collector.fields, 0);
    return collector;
  }

  add(name: unknown, value: unknown): void {
    const at = this.count;
    this.fields[at] = name;
    this.fields[at + 1] = value;
    this.count = at + 2;
    if (this.candidate !== null && !this.candidate.hasField(at, name, value)) {
      this.candidate = remembered.find(this.flags, this.keepAliveTimeout, this.maxRequests, this.fields, this.count);
    }
    if (this.candidate === null && this.validating) validateField(name, value);
  }

  /** The section for the fields added: a remembered one, or one made now. */
  finish(): ResponseHead {
    const count = this.count;
    let head = this.candidate;
    if (head !== null && (head.fields as readonly unknown[]).length === count) {
      remembered.used(head);
    } else {
      head = buildHead(this.fields, count, this.flags, this.keepAliveTimeout, this.maxRequests);
      if (head.fields !== null) remembered.add(head);
    }
    // `fields` keeps its length (setting it costs more than the rest of a remembered section's
    // use); the next writeHead overwrites what it holds.
    this.candidate = null;
    FieldCollector.idle = this;
    return head;
  }
}

/** A section made from `fields[0..count)` (validated): node's _storeHeader, less Date (the engine's). */
function buildHead(fields: readonly unknown[], count: number, flags: number, keepAliveTimeout: number, maxRequests: number): ResponseHead {
  let lines = '';
  let rememberable = true;
  let hasConnection = false;
  let hasKeepAlive = false;
  let hasTrailer = false;
  let chunked = false;
  let last = false;
  let keepsAlive = false;
  let declaredLength = -1;
  let declaresFraming = false;
  for (let i = 0; i < count; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as HeaderValue;
    if (typeof value !== 'string' && typeof value !== 'number') rememberable = false;
    lines += fieldLines(name, value);
    switch (name.length) {
      case 7:
        if (name.toLowerCase() === 'trailer') hasTrailer = true;
        break;
      case 10: {
        const lower = name.toLowerCase();
        if (lower === 'connection') {
          hasConnection = true;
          if (CONNECTION_CLOSE.test(String(value))) last = true;
          else keepsAlive = true;
        } else if (lower === 'keep-alive') {
          // node's own Keep-Alive field then stays out (its _defaultKeepAlive).
          hasKeepAlive = true;
        }
        break;
      }
      case 14:
        if (name.toLowerCase() === 'content-length') {
          // A list goes out as one line per value, as node sends it; the engine frames by the last.
          declaredLength = Number(Array.isArray(value) ? value[value.length - 1] : value);
          declaresFraming = true;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          declaresFraming = true;
          if (CHUNKED.test(String(value))) chunked = true;
        }
        break;
    }
  }
  // As node: trailers need chunked framing.
  if (hasTrailer && declaredLength !== -1 && !chunked) {
    throw Object.assign(new Error('Trailers are invalid with this transfer encoding'), { code: 'ERR_HTTP_TRAILER_INVALID' });
  }
  // As node: a 204 or 304 that says it is chunked cannot be, and the connection is not reused.
  const keepAlive = flags & ConnectionFlags.KeepAlive && !(chunked && flags & ConnectionFlags.NoContent);
  const fieldsLength = lines.length;
  if (flags & ConnectionFlags.RemovedConnection) {
    // As node: no Connection field at all, and the connection lasts only if it was to anyway.
    if (!hasConnection && !keepAlive) last = true;
  } else if (!hasConnection) {
    if (keepAlive && (declaredLength !== -1 || flags & ConnectionFlags.ChunkedByDefault)) {
      lines += 'Connection: keep-alive\r\n';
      const max = maxRequests > 0 ? `, max=${maxRequests}` : '';
      if (keepAliveTimeout && !hasKeepAlive) lines += `Keep-Alive: timeout=${Math.floor(keepAliveTimeout / 1000)}${max}\r\n`;
    } else {
      last = true;
      lines += 'Connection: close\r\n';
    }
  }
  return new ResponseHead(
    rememberable ? fields.slice(0, count) : null, flags, keepAliveTimeout, maxRequests, lines, last, keepsAlive, declaredLength, declaresFraming,
    lines.length - fieldsLength, hasTrailer,
  );
}

/** A field as header lines: one line per value of a list, as the engine writes it. */
function fieldLines(name: string, value: HeaderValue): string {
  if (!Array.isArray(value)) return `${name}: ${String(value)}\r\n`;
  let lines = '';
  for (const item of value as readonly (string | number)[]) lines += `${name}: ${String(item)}\r\n`;
  return lines;
}
