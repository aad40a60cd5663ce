// The @endpoint decorator. It works as a standard (TC39 / TypeScript 5) decorator and as a
// legacy `experimentalDecorators` one, and records the route where the app can find it.
import type { ErrorHandler, Middleware } from './middleware';
import type { Request } from './request';

export interface EndpointOptions {
  /** Default ['GET']; HEAD is answered by GET routes and OPTIONS automatically. */
  methods?: readonly string[];
  /** Middleware around this endpoint only (innermost level). */
  middleware?: readonly Middleware[];
  /** Error handlers for this endpoint only (tried first). */
  onError?: readonly ErrorHandler[];
}

/** A handler: the request, then the converted path parameters in path order. */
export type EndpointHandler = (request: Request, ...params: any[]) => unknown;

/** @internal */
export interface EndpointDefinition {
  readonly path: string;
  readonly methods: readonly string[];
  readonly middleware: readonly Middleware[];
  readonly errorHandlers: readonly ErrorHandler[];
  readonly handler: EndpointHandler;
  readonly name: string;
}

export interface EndpointDecorator {
  /** Standard decorators. */
  <This, F extends EndpointHandler>(value: F, context: ClassMethodDecoratorContext<This, F>): void;
  /** `experimentalDecorators`. */
  (target: object, key: string | symbol, descriptor: PropertyDescriptor): void;
}

/** Definitions by owner: an instance (standard decorators) or a prototype (legacy ones). */
const definitions = new WeakMap<object, EndpointDefinition[]>();

function record(owner: object, definition: EndpointDefinition): void {
  const list = definitions.get(owner);
  if (list === undefined) definitions.set(owner, [definition]);
  else list.push(definition);
}

/** @internal Every endpoint of a blueprint instance, its own class's and inherited ones. */
export function endpointsOf(blueprint: object): EndpointDefinition[] {
  const found: EndpointDefinition[] = [];
  for (let owner: object | null = blueprint; owner !== null; owner = Object.getPrototypeOf(owner) as object | null) {
    found.push(...(definitions.get(owner) ?? []));
  }
  return found;
}

function normalizeMethods(path: string, methods: readonly string[]): string[] {
  if (methods.length === 0) throw new TypeError(`pyre: @endpoint('${path}') needs at least one method`);
  return [...new Set(methods.map((m) => m.toUpperCase()))];
}

/** Marks a Blueprint method as the handler of `path` (with typed `{name:converter}` parameters). */
export function endpoint(path: string, options: EndpointOptions = {}): EndpointDecorator {
  const base = {
    path,
    methods: normalizeMethods(path, options.methods ?? ['GET']),
    middleware: [...(options.middleware ?? [])],
    errorHandlers: [...(options.onError ?? [])],
  };
  return (first: unknown, second: unknown, descriptor?: PropertyDescriptor): void => {
    if (typeof second === 'object' && second !== null && 'kind' in second) {
      const context = second as ClassMethodDecoratorContext;
      if (context.kind !== 'method' || context.static) throw new TypeError(`pyre: @endpoint('${path}') decorates instance methods only`);
      const definition = { ...base, handler: first as EndpointHandler, name: String(context.name) };
      context.addInitializer(function (this: unknown) {
        record(this as object, definition);
      });
      return;
    }
    if (typeof descriptor?.value !== 'function') throw new TypeError(`pyre: @endpoint('${path}') decorates methods only`);
    record(first as object, { ...base, handler: descriptor.value as EndpointHandler, name: String(second) });
  };
}
