// A Blueprint groups endpoints with their own middleware and error handlers. It takes no
// constructor arguments and declares no `app` member, so subclasses may declare their own.
import { emptyLevel, type ErrorHandler, type Level, type Middleware } from './middleware';

const levels = new WeakMap<Blueprint, ReturnType<typeof emptyLevel>>();

export class Blueprint {
  constructor() {
    levels.set(this, emptyLevel());
  }

  /** Middleware around every endpoint of this blueprint. */
  use(...middleware: Middleware[]): this {
    levels.get(this)?.middleware.push(...middleware);
    return this;
  }

  /** Error handlers for every endpoint of this blueprint. */
  onError(...handlers: ErrorHandler[]): this {
    levels.get(this)?.errorHandlers.push(...handlers);
    return this;
  }
}

/** @internal */
export function levelOf(blueprint: Blueprint): Level {
  return levels.get(blueprint) ?? emptyLevel();
}
