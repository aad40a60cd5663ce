// Node's http prototypes keep their state under module-private symbols. Express swaps our
// objects' prototypes for ones that run node's own methods, so those methods must find their
// state where they look for it: we read the symbols off freshly made node objects, once.
import * as http from 'node:http';

function symbolNamed(target: object, description: string): symbol {
  const found = Object.getOwnPropertySymbols(target).find((s) => s.description === description);
  if (found === undefined) throw new Error(`pyre: node ${process.version} has no http symbol ${description}`);
  return found;
}

const sampleRequest = new http.IncomingMessage(null as never);
const sampleResponse = new http.ServerResponse(sampleRequest);

/** OutgoingMessage's header store: { [lowercase name]: [name, value] }. */
export const kOutHeaders = symbolNamed(sampleResponse, 'kOutHeaders');
/** Set when write() returned false and 'drain' is owed. */
export const kNeedDrain = symbolNamed(sampleResponse, 'kNeedDrain');

/** The node:http methods our objects delegate to, so errors are node's own, byte for byte. */
type NodeMethod = (this: object, ...args: unknown[]) => unknown;
export const nodeResponse = {
  writeHead: http.ServerResponse.prototype.writeHead as NodeMethod,
  write: http.OutgoingMessage.prototype.write as NodeMethod,
  end: http.OutgoingMessage.prototype.end as NodeMethod,
};

export type OutHeaders = Record<string, [string, string | number | readonly string[]]>;

/** IncomingMessage members node's server uses that @types/node does not declare. */
export interface IncomingInternals {
  _addHeaderLines(headers: string[], count: number): void;
  _dump(): void;
  _consuming: boolean;
  _readableState: { resumeScheduled: boolean };
  joinDuplicateHeaders: boolean;
}
