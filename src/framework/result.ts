// What a handler may return, turned into a Response.
import { Response } from './responses/response';
import { JSONResponse, TextResponse } from './responses/simple';
import { fixedHeaders, type FixedHeaders } from './transport/fixed-headers';

export const TEXT_HEADERS = fixedHeaders('text/plain; charset=utf-8') as FixedHeaders;
const JSON_HEADERS = fixedHeaders('application/json; charset=utf-8') as FixedHeaders;

export function toResponse(result: unknown): Response {
  if (result instanceof Response) return result;
  if (result === undefined || result === null) return new Response(undefined, { status: 204 });
  if (typeof result === 'string') return new TextResponse(result);
  if (Buffer.isBuffer(result) || result instanceof Uint8Array) return new Response(result, {}, 'application/octet-stream');
  return new JSONResponse(result);
}

/**
 * The headers of a result that toResponse() would make a 200 TextResponse or JSONResponse of,
 * which can go out without a Response object (see plainBody); undefined for any other result.
 */
export function plainHeaders(result: unknown): FixedHeaders | undefined {
  if (typeof result === 'string') return TEXT_HEADERS;
  if (result === undefined || result === null || result instanceof Response || result instanceof Uint8Array) return undefined;
  return JSON_HEADERS;
}

/** The body of a result plainHeaders() took, as its Response would carry it. */
export function plainBody(result: unknown, headers: FixedHeaders): string {
  return headers === TEXT_HEADERS ? (result as string) : (JSON.stringify(result) ?? 'null');
}
