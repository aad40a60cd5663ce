// What a handler may return, turned into a Response.
import { Response } from './responses/response';
import { JSONResponse, TextResponse } from './responses/simple';

export function toResponse(result: unknown): Response {
  if (result instanceof Response) return result;
  if (result === undefined || result === null) return new Response(undefined, { status: 204 });
  if (typeof result === 'string') return new TextResponse(result);
  if (Buffer.isBuffer(result) || result instanceof Uint8Array) return new Response(result, {}, 'application/octet-stream');
  return new JSONResponse(result);
}
