// The headers of a response that only carries its default Content-Type: validated and registered
// with the engine once, so the fast path sends them by id with no per-request serialising.
import { HeaderBlock } from '../../engine/headers';
import type { OutgoingHeaders } from './transport';

export class FixedHeaders {
  /** The engine's registered copy. */
  readonly block: HeaderBlock;

  constructor(readonly record: OutgoingHeaders) {
    this.block = new HeaderBlock(record);
  }
}

/** Only the framework's own content types: a user-supplied type must not grow this list. */
const common: readonly (readonly [string | undefined, FixedHeaders])[] = [
  undefined,
  'text/plain; charset=utf-8',
  'text/html; charset=utf-8',
  'application/json; charset=utf-8',
  'application/octet-stream',
].map((type) => [type, new FixedHeaders(type === undefined ? {} : { 'content-type': type })] as const);

/** The fixed headers of a response whose only header is `contentType` (none: undefined), if that type is a common one. */
export function fixedHeaders(contentType: string | undefined): FixedHeaders | undefined {
  // A scan, not a Map: the types come from constants, so `===` mostly compares pointers.
  for (const [type, fixed] of common) if (type === contentType) return fixed;
  return undefined;
}
