// Turning a headers object into the header block the engine writes ("Name: value\r\n" lines),
// validating every name and value first: the engine trusts the block's line structure.
import { binding } from './binding';

export type HeaderValue = string | number | readonly (string | number)[];
export type HeadersInit = Readonly<Record<string, HeaderValue | undefined>> | HeaderBlock;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, space and tab; never CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export class InvalidHeaderError extends TypeError {
  constructor(readonly code: 'ERR_INVALID_HTTP_TOKEN' | 'ERR_INVALID_CHAR', message: string) {
    super(message);
    this.name = 'InvalidHeaderError';
  }
}

export function checkHeaderName(name: string): void {
  if (!TOKEN.test(name)) {
    throw new InvalidHeaderError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`);
  }
}

export function checkHeaderValue(name: string, value: string): void {
  if (!FIELD_VALUE.test(value)) {
    throw new InvalidHeaderError('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
  }
}

// Registered blocks are released when their HeaderBlock is garbage-collected.
const registered = new FinalizationRegistry<number>((id) => binding.releaseBlock(id));

/**
 * A validated header block, registered with the engine once: build it outside the handler and
 * every response that uses it skips serialising and checking it again.
 */
export class HeaderBlock {
  readonly text: string;
  /** @internal The engine's id for this block. */
  readonly id: number;
  constructor(headers: Readonly<Record<string, HeaderValue | undefined>>) {
    this.text = serialize(headers);
    this.id = binding.registerBlock(this.text);
    registered.register(this, this.id);
  }
}

function serialize(headers: Readonly<Record<string, HeaderValue | undefined>>): string {
  let text = '';
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    checkHeaderName(name);
    if (Array.isArray(value)) {
      for (const item of value as readonly (string | number)[]) text += line(name, String(item));
    } else {
      text += line(name, String(value));
    }
  }
  return text;
}

function line(name: string, value: string): string {
  checkHeaderValue(name, value);
  return `${name}: ${value}\r\n`;
}

/** What the engine takes as a response's headers: validated block text, or a registered block's id. */
export function headerBlock(headers: HeadersInit | undefined): string | number {
  if (headers === undefined) return '';
  if (headers instanceof HeaderBlock) return headers.id;
  return serialize(headers);
}

/** Trailer fields as block text. */
export function trailerBlock(trailers: HeadersInit | undefined): string {
  if (trailers === undefined) return '';
  if (trailers instanceof HeaderBlock) return trailers.text;
  return serialize(trailers);
}

/**
 * Calls `visit(name, value, target)` for each of the first `limit` fields of the engine's header
 * text ("Name: value" lines joined by CRLF, already validated: no bare CR or LF, token names),
 * values without surrounding spaces/tabs.
 */
export function forEachHeaderField<T>(text: string, limit: number, visit: (name: string, value: string, target: T) => void, target: T): void {
  if (text === '') return;
  let start = 0;
  for (let count = 0; count < limit; count++) {
    let end = text.indexOf('\r\n', start);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', start);
    visit(text.slice(start, colon), trimOws(text, colon + 1, end), target);
    if (end === text.length) return;
    start = end + 2;
  }
}

/** The engine's header text split into [name, value, ...] (see forEachHeaderField). */
export function splitHeaderText(text: string): string[] {
  const fields: string[] = [];
  forEachHeaderField(text, Infinity, pushField, fields);
  return fields;
}

function pushField(name: string, value: string, fields: string[]): void {
  fields.push(name, value);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** text[from..to) without the spaces and tabs around it. */
export function trimOws(text: string, from: number, to: number): string {
  while (from < to && isOws(text.charCodeAt(from))) from++;
  while (to > from && isOws(text.charCodeAt(to - 1))) to--;
  return text.slice(from, to);
}
