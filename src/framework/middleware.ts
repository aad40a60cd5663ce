// Middleware and error handlers, and how one level of them (app, blueprint, endpoint) wraps
// what is inside it.
import type { Request } from './request';
import type { Response } from './responses/response';
import { toResponse } from './result';

/** Runs the rest of the chain (once, however often it is called) and gives its response. */
export type Next = () => Promise<Response>;

/**
 * Runs before and after what it wraps. Return a response (or anything a handler may return)
 * to short-circuit or replace the response; return nothing to carry on (calling `next()` if
 * it has not) and keep the response of what it wraps.
 */
export type Middleware = (request: Request, next: Next) => unknown;

/** Returns a response (or handler result) to handle the error, or undefined to pass it outwards. */
export type ErrorHandler = (error: unknown, request: Request) => unknown;

export interface Level {
  readonly middleware: readonly Middleware[];
  readonly errorHandlers: readonly ErrorHandler[];
}

export function emptyLevel(): { middleware: Middleware[]; errorHandlers: ErrorHandler[] } {
  return { middleware: [], errorHandlers: [] };
}

/** Runs `inner` inside a level's middleware; errors from inside go to its error handlers. */
export function runLevel(level: Level, request: Request, inner: Next): Promise<Response> {
  if (level.middleware.length === 0 && level.errorHandlers.length === 0) return inner();
  return guarded(level, request, inner);
}

async function guarded(level: Level, request: Request, inner: Next): Promise<Response> {
  try {
    return await through(level.middleware, 0, request, inner);
  } catch (error) {
    for (const handle of level.errorHandlers) {
      const result = await handle(error, request);
      if (result !== undefined) return toResponse(result);
    }
    throw error;
  }
}

async function through(middleware: readonly Middleware[], index: number, request: Request, inner: Next): Promise<Response> {
  if (index === middleware.length) return inner();
  let downstream: Promise<Response> | undefined;
  const next: Next = () => (downstream ??= through(middleware, index + 1, request, inner));
  const result = await middleware[index](request, next);
  return result === undefined ? next() : toResponse(result);
}
