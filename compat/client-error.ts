// The error a 'clientError' listener gets, shaped as node's: node's parser (llhttp) names the
// fault with a code and a fixed reason, and says how far into the input it got (bytesParsed).
import { METHODS } from 'node:http';

/** llhttp's reason for each code the engine reports. */
const LLHTTP_REASONS: Record<string, string> = {
  HPE_INVALID_METHOD: 'Invalid method encountered',
  HPE_INVALID_URL: 'Invalid characters in url',
  HPE_INVALID_VERSION: 'Invalid HTTP version',
  HPE_HEADER_OVERFLOW: 'Header overflow',
  HPE_INVALID_HEADER_TOKEN: 'Invalid header token',
  HPE_LF_EXPECTED: 'Expected LF after CR',
  HPE_CR_EXPECTED: 'Missing expected CR after header value',
  HPE_INVALID_CONTENT_LENGTH: 'Invalid character in Content-Length',
  HPE_UNEXPECTED_CONTENT_LENGTH: "Transfer-Encoding can't be present with Content-Length",
  HPE_INVALID_TRANSFER_ENCODING: 'Invalid `Transfer-Encoding` header value',
  HPE_INVALID_CHUNK_SIZE: 'Invalid character in chunk size',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'Chunk extensions overflow',
  HPE_INVALID_EOF_STATE: 'Invalid EOF state',
};

/** Where llhttp words one fault of a code its own way: by the engine's reason. */
const LLHTTP_REASONS_BY_FAULT: Record<string, string> = {
  'both Content-Length and Transfer-Encoding': "Transfer-Encoding can't be present with Content-Length",
};

/** Faults found in a request body: the input left is body bytes, not a request line. */
const BODY_FAULTS = new Set(['HPE_INVALID_CHUNK_SIZE', 'HPE_CHUNK_EXTENSIONS_OVERFLOW', 'ERR_PYRE_BODY_TOO_LARGE']);

/** The methods node's parser knows: http.METHODS, and RTSP's, which its matcher shares. */
const PARSER_METHODS = [
  ...METHODS, 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER', 'REDIRECT', 'RECORD', 'FLUSH',
];

/**
 * Where node's parser would find the method of `input` wrong (its bytesParsed then), after the
 * empty lines it skips: the first byte that no method it knows continues with, or the space
 * after a word that is not one. -1 while the method is right, or could still become right.
 */
function badMethodAt(input: Buffer): number {
  let start = 0;
  while (input[start] === 0x0d || input[start] === 0x0a) start++;
  const space = input.indexOf(0x20, start);
  const word = input.toString('latin1', start, space === -1 ? input.length : space);
  let length = 0;
  while (length < word.length && PARSER_METHODS.some((method) => method.startsWith(word.slice(0, length + 1)))) length++;
  if (length < word.length) return start + length;
  return space !== -1 && !METHODS.includes(word) ? start + length : -1;
}

export interface ClientError extends Error {
  code: string;
  reason: string;
  /** What was left of the input (absent for HPE_INVALID_EOF_STATE, as in node). */
  rawPacket?: Buffer;
  bytesParsed?: number;
}

/** The engine refused a request with `code` (node's, or ERR_PYRE_*) for `reason`; `rawPacket` is the unparsed input. */
export function clientError(code: string, reason: string, rawPacket: Buffer): ClientError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return Object.assign(new Error('Request timeout'), { code, reason, rawPacket, bytesParsed: 0 });
  }
  if (code === 'HPE_INVALID_EOF_STATE') {
    // node's parser reports this when the input ends, not while reading it: no packet.
    return Object.assign(new Error('Parse Error'), { bytesParsed: 0, code, reason: LLHTTP_REASONS[code] });
  }
  // node's parser reads the method first, and knows only its own list of methods: whatever
  // else the engine found, a method it does not know is the fault node reports.
  let bytesParsed = rawPacket.length;
  const methodError = BODY_FAULTS.has(code) ? -1 : badMethodAt(rawPacket);
  if (methodError !== -1) {
    code = 'HPE_INVALID_METHOD';
    bytesParsed = methodError;
  }
  const llhttpReason = (methodError === -1 ? LLHTTP_REASONS_BY_FAULT[reason] : undefined) ?? LLHTTP_REASONS[code] ?? reason;
  return Object.assign(new Error(`Parse Error: ${llhttpReason}`), { code, reason: llhttpReason, rawPacket, bytesParsed });
}
