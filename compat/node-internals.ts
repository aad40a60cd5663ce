// Node's http prototypes keep their state under module-private symbols. Our request and response
// objects run node's own prototype methods (setHeader, the headers getter, the Readable
// machinery), so those methods must find their state where they look for it: we read the symbols
// off freshly made node objects, once.
import * as http from 'node:http';
import { Readable } from 'node:stream';

function symbolNamed(target: object, description: string): symbol {
  const found = Object.getOwnPropertySymbols(target).find((s) => s.description === description);
  if (found === undefined) throw new Error(`pyre: node ${process.version} has no http symbol ${description}`);
  return found;
}

const sampleRequest = new http.IncomingMessage(null as never);
const sampleResponse = new http.ServerResponse(sampleRequest);

/** IncomingMessage's parsed-header caches and the counts of raw fields they are built from. */
export const kHeaders = symbolNamed(sampleRequest, 'kHeaders');
export const kHeadersCount = symbolNamed(sampleRequest, 'kHeadersCount');
export const kTrailers = symbolNamed(sampleRequest, 'kTrailers');
export const kTrailersCount = symbolNamed(sampleRequest, 'kTrailersCount');

/** Node's default stream high-water mark in Node 20 (what a net.Socket passes on). */
export const NODE_HIGH_WATER_MARK = 16384;

/** OutgoingMessage's header store: { [lowercase name]: [name, value] }. */
export const kOutHeaders = symbolNamed(sampleResponse, 'kOutHeaders');
/** Set when write() returned false and 'drain' is owed. */
export const kNeedDrain = symbolNamed(sampleResponse, 'kNeedDrain');
export const kCorked = symbolNamed(sampleResponse, 'corked');
export const kErrored = symbolNamed(sampleResponse, 'errored');
export const kHighWaterMark = symbolNamed(sampleResponse, 'kHighWaterMark');
export const kBytesWritten = symbolNamed(sampleResponse, 'kBytesWritten');
export const kRejectNonStandardBodyWrites = symbolNamed(sampleResponse, 'kRejectNonStandardBodyWrites');

/**
 * The node:http methods ours replace. Our objects delegate their error cases to them, so errors
 * are node's own, byte for byte; objects made by node's own constructors use them throughout.
 */
type NodeMethod = (this: object, ...args: unknown[]) => unknown;
export const nodeResponse = {
  writeHead: http.ServerResponse.prototype.writeHead as NodeMethod,
  write: http.OutgoingMessage.prototype.write as NodeMethod,
  end: http.OutgoingMessage.prototype.end as NodeMethod,
  flushHeaders: http.OutgoingMessage.prototype.flushHeaders as NodeMethod,
  writeContinue: http.ServerResponse.prototype.writeContinue as NodeMethod,
  addTrailers: http.OutgoingMessage.prototype.addTrailers as NodeMethod,
  _writeRaw: (http.OutgoingMessage.prototype as unknown as { _writeRaw: NodeMethod })._writeRaw,
  _send: (http.OutgoingMessage.prototype as unknown as { _send: NodeMethod })._send,
};

export type OutHeaders = Record<string, [string, string | number | readonly string[]]>;

/** The state object behind every Readable (node exports its constructor, @types/node does not). */
export interface ReadableStateLike {
  readingMore: boolean;
  resumeScheduled: boolean;
}
export const ReadableState = (Readable as unknown as {
  ReadableState: new (options: { highWaterMark: number }, stream: Readable, isDuplex: boolean) => ReadableStateLike;
}).ReadableState;

/** IncomingMessage members node's server uses that @types/node does not declare. */
export interface IncomingInternals {
  _addHeaderLines(headers: string[], count: number): void;
  _addHeaderLine(name: string, value: string, headers: object): void;
  _dump(): void;
  _consuming: boolean;
  _dumped: boolean;
  _readableState: ReadableStateLike;
  joinDuplicateHeaders: boolean;
}
