// The App: the route table (compiled in the native router), the global middleware level,
// sessions, and the request pipeline shared by every transport.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InjectOptions, Response as InjectedResponse } from 'light-my-request';
import { binding } from '../engine/binding';
import type { Exchange } from '../engine/exchange';
import type { EngineOptions } from '../engine/options';
import { type ListenOptions, NativeServer } from '../engine/server';
import { AppServer } from './app-server';
import { Blueprint, levelOf } from './blueprint';
import { expiredCookie } from './cookies';
import { endpointsOf, type EndpointDefinition, type EndpointHandler } from './endpoint';
import { HttpError } from './errors';
import { callerDirectory, importFrom } from './load';
import { emptyLevel, runLevel, type ErrorHandler, type Level, type Middleware, type Next } from './middleware';
import { Request, type RequestContext } from './request';
import { Response } from './responses/response';
import { TextResponse } from './responses/simple';
import { plainBody, plainHeaders, toResponse } from './result';
import { SessionSealer, type SessionOptions } from './session';
import { ExchangeTransport } from './transport/exchange';
import type { FixedHeaders } from './transport/fixed-headers';
import { NodeTransport } from './transport/node';
import type { Transport } from './transport/transport';

export interface Logger {
  error(message: string, error?: unknown): void;
}

export interface AppOptions extends EngineOptions {
  /** Secrets for the session cookie: the first seals, all open (rotate by prepending). */
  sessionKeys?: string[];
  session?: SessionOptions;
  /** Error responses include the stack trace. Never in production. */
  debug?: boolean;
  /** Bytes request.read()/text()/json() accept (413 beyond). Default 1 MiB. */
  bodyLimit?: number;
  /** Where unhandled errors are logged. Default console. */
  logger?: Logger;
}

/** What App.listen() takes besides the port and host. */
export type AppListenOptions = Omit<ListenOptions, 'port' | 'host'>;

export interface ConverterSpec {
  /** A regular expression (linear-time `regex` syntax) one whole path segment must match. */
  pattern: string;
  /** Turns the matched text into the handler's argument; throwing means the route does not match (404). */
  convert?: (value: string) => unknown;
}

export interface MountOptions {
  /** Prepended to every endpoint path of the blueprint, e.g. '/api'. */
  prefix?: string;
}

type Convert = (value: string) => unknown;

/** A route as the app runs it. */
interface Route {
  readonly id: number;
  readonly label: string;
  readonly blueprint: Blueprint;
  readonly handler: EndpointHandler;
  /** Around the endpoint level; both read live, so middleware added later applies. */
  readonly blueprintLevel: Level;
  readonly endpointLevel: Level;
  readonly paramNames: readonly string[];
  /** A convert function per parameter position, for user converters that have one. */
  readonly converts: readonly (Convert | undefined)[] | null;
}

const PARAMETER = /\{([^}:]*)(?::([^}]*))?\}/g;
const TEXT = { 'content-type': 'text/plain; charset=utf-8' } as const;
const NO_NAMES: readonly string[] = [];
const NO_PARAMS: readonly unknown[] = [];

// An App that is garbage-collected frees its native route table.
const routerCleanup = new FinalizationRegistry<number>((id) => binding.routerDestroy(id));

export class App {
  readonly debug: boolean;
  private readonly routerId: number;
  /** By route id (the router never reuses one); an array: looked up on every request. */
  private readonly routes: (Route | undefined)[] = [];
  private readonly mounted = new Map<Blueprint, Route[]>();
  private readonly converters = new Map<string, Convert | undefined>();
  private readonly global = emptyLevel();
  private readonly context: RequestContext;
  private readonly sessionOptions: SessionOptions;
  private readonly engineOptions: EngineOptions;
  private readonly logger: Logger;

  /** The app as a node `(req, res)` handler: for http.createServer, compat servers and inject(). */
  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    const transport = new NodeTransport(req, res);
    const target = transport.target;
    const q = target.indexOf('?');
    const match = binding.routerLookup(this.routerId, transport.method, q === -1 ? target : target.slice(0, q));
    void this.serve(transport, match.route, match.params);
  };

  constructor(options: AppOptions = {}) {
    const { sessionKeys, session = {}, debug = false, bodyLimit = 1 << 20, logger = defaultLogger, ...engineOptions } = options;
    this.debug = debug;
    this.logger = logger;
    this.engineOptions = engineOptions;
    this.sessionOptions = session;
    this.context = {
      bodyLimit,
      sealer: sessionKeys === undefined ? null : new SessionSealer(sessionKeys),
      sessionCookie: session.cookieName ?? 'pyre_session',
    };
    this.routerId = binding.routerCreate();
    routerCleanup.register(this, this.routerId);
  }

  /** Global middleware, outermost: it also sees 404, 405 and OPTIONS responses. */
  use(...middleware: Middleware[]): this {
    this.global.middleware.push(...middleware);
    return this;
  }

  /** Global error handlers, tried after endpoint and blueprint ones. */
  onError(...handlers: ErrorHandler[]): this {
    this.global.errorHandlers.push(...handlers);
    return this;
  }

  /** Registers `{param:name}`: segments matching `pattern` (anchored), passed through `convert`. */
  addConverter(name: string, spec: ConverterSpec): this {
    binding.routerAddConverter(this.routerId, name, spec.pattern);
    this.converters.set(name, spec.convert);
    return this;
  }

  /** Adds a blueprint's routes, at once even while serving; all or none of them on a conflict. */
  addBlueprint(blueprint: Blueprint, options: MountOptions = {}): this {
    if (!(blueprint instanceof Blueprint)) throw new TypeError('pyre: addBlueprint expects a Blueprint instance');
    if (this.mounted.has(blueprint)) throw new Error(`pyre: ${blueprint.constructor.name} is already added`);
    const prefix = options.prefix ?? '';
    const added: Route[] = [];
    try {
      for (const definition of endpointsOf(blueprint)) added.push(this.addRoute(blueprint, prefix, definition));
    } catch (err) {
      for (const route of added) this.dropRoute(route);
      throw err;
    }
    this.mounted.set(blueprint, added);
    return this;
  }

  /** Removes a blueprint's routes; requests already routed to them finish normally. */
  removeBlueprint(blueprint: Blueprint): boolean {
    const routes = this.mounted.get(blueprint);
    if (routes === undefined) return false;
    for (const route of routes) this.dropRoute(route);
    this.mounted.delete(blueprint);
    return true;
  }

  /** Imports a module (path as for `require`, relative to the caller) and runs its `setup(app)`. */
  async load(modulePath: string): Promise<void> {
    const loaded = (await importFrom(modulePath, callerDirectory())) as { setup?: unknown; default?: { setup?: unknown } } | null;
    const setup = loaded?.setup ?? loaded?.default?.setup;
    if (typeof setup !== 'function') throw new Error(`pyre: app.load(${JSON.stringify(modulePath)}): the module exports no setup(app) function`);
    await (setup as (app: App) => unknown)(this);
  }

  /**
   * Serves the app on the native fast path. Without a host it listens on `::`, reachable over
   * IPv4 and IPv6. `options` are node's (backlog, reusePort, exclusive, ipv6Only); in a cluster
   * worker the port is shared with the other workers unless `exclusive`. A string instead of a
   * port is a unix domain socket's path (`options.backlog` applies).
   */
  async listen(port: number | string = 0, host?: string, options: AppListenOptions = {}): Promise<AppServer> {
    const server = new NativeServer((exchange) => this.serveExchange(exchange), { ...this.engineOptions, router: this.routerId });
    if (typeof port === 'string') server.listen({ path: port, backlog: options.backlog });
    else server.listen({ ...options, port, host });
    return new AppServer(server);
  }

  /** Runs a request without a socket (light-my-request, loaded on the first call; needs Node 20.19+). */
  inject(options: InjectOptions | string): Promise<InjectedResponse> {
    return lightMyRequest()(this.handler, options);
  }

  // ---- routes ----

  private addRoute(blueprint: Blueprint, prefix: string, definition: EndpointDefinition): Route {
    const pattern = prefix + definition.path;
    const methods = [...definition.methods];
    const label = `${methods.join(',')} ${pattern} (${blueprint.constructor.name}.${definition.name})`;
    let id: number;
    try {
      const conflict = binding.routerConflict(this.routerId, methods, pattern);
      const other = conflict < 0 ? undefined : this.routes[conflict];
      if (other !== undefined) throw new Error(`route ${label} conflicts with ${other.label}`);
      id = binding.routerAdd(this.routerId, methods, pattern);
    } catch (err) {
      throw new Error(`pyre: ${(err as Error).message.includes(label) ? '' : `${label}: `}${(err as Error).message}`);
    }
    const parameters = [...pattern.matchAll(PARAMETER)];
    const converts = parameters.map((p) => (p[2] === undefined ? undefined : this.converters.get(p[2])));
    const route: Route = {
      id,
      label,
      blueprint,
      handler: definition.handler,
      blueprintLevel: levelOf(blueprint),
      endpointLevel: { middleware: definition.middleware, errorHandlers: definition.errorHandlers },
      paramNames: parameters.map((p) => p[1]),
      converts: converts.some((c) => c !== undefined) ? converts : null,
    };
    this.routes[id] = route;
    return route;
  }

  private dropRoute(route: Route): void {
    binding.routerRemove(this.routerId, route.id);
    this.routes[route.id] = undefined;
  }

  // ---- the pipeline ----

  private serveExchange(exchange: Exchange): void | Promise<void> {
    const route = exchange.route;
    // A request routed before a blueprint was removed (pipelined, not yet dispatched) is routed again.
    if (route >= 0 && this.routes[route] === undefined) {
      const match = binding.routerLookup(this.routerId, exchange.method, exchange.path);
      return this.serve(new ExchangeTransport(exchange), match.route, match.params);
    }
    return this.serve(new ExchangeTransport(exchange), route, exchange.params ?? NO_PARAMS);
  }

  /**
   * Runs one request. With no middleware around the route and a handler that returns a plain
   * value (not a promise), it runs start to finish synchronously: no promise, no closure.
   */
  private serve(transport: Transport, routeId: number, params: readonly unknown[]): void | Promise<void> {
    const route = routeId < 0 ? undefined : this.routes[routeId];
    const args = route === undefined ? null : convertParams(route, params);
    if (route === undefined || args === null) {
      const request = new Request(transport, this.context, NO_NAMES, NO_PARAMS);
      if (this.global.middleware.length === 0) return this.send(transport, request, route, this.unrouted(transport, routeId));
      return this.settle(transport, request, route, runLevel(this.global, request, () => Promise.resolve(this.unrouted(transport, routeId))));
    }
    const request = new Request(transport, this.context, route.paramNames, args);
    if (this.global.middleware.length > 0 || route.blueprintLevel.middleware.length > 0 || route.endpointLevel.middleware.length > 0) {
      return this.settle(transport, request, route, runLevel(this.global, request, () => runRoute(route, request, () => callHandler(route, request, args))));
    }
    let result: unknown;
    try {
      result = invoke(route, request, args);
    } catch (error) {
      return this.failed(transport, request, route, error);
    }
    if (isThenable(result)) return this.sendWhenSettled(transport, request, route, result);
    return this.sendResult(transport, request, route, result);
  }

  /**
   * An `async` handler's result (no middleware around the route): one reaction on its promise,
   * then sent as a synchronous handler's value is. Awaiting it through the middleware path cost
   * three promise jobs and an async frame more: +12,900 instructions per request, as much again
   * as the whole synchronous request.
   */
  private sendWhenSettled(transport: Transport, request: Request, route: Route, pending: PromiseLike<unknown>): Promise<void> {
    return Promise.resolve(pending).then(
      (result) => this.sendResult(transport, request, route, result),
      (error: unknown) => this.failed(transport, request, route, error),
    );
  }

  /** A handler's value, sent; a plain string or JSON value needs no Response object unless a session cookie rides on it. */
  private sendResult(transport: Transport, request: Request, route: Route, result: unknown): void | Promise<void> {
    let response: Response | undefined;
    let plain: FixedHeaders | undefined;
    let body = '';
    try {
      plain = request.openedSession === undefined ? plainHeaders(result) : undefined;
      if (plain === undefined) response = toResponse(result);
      else body = plainBody(result, plain);
    } catch (error) {
      return this.failed(transport, request, route, error);
    }
    if (plain !== undefined) return this.sendPlain(transport, route, plain, body);
    return this.send(transport, request, route, response as Response);
  }

  /** A route with no middleware failed: its error goes through the error handlers of every level. */
  private failed(transport: Transport, request: Request, route: Route, error: unknown): Promise<void> {
    return this.settle(transport, request, route, this.recover(route, request, Promise.reject(error)));
  }

  private sendPlain(transport: Transport, route: Route, headers: FixedHeaders, body: string): void | Promise<void> {
    try {
      transport.respond(200, headers, body);
    } catch (error) {
      return this.sendFailed(transport, route, error);
    }
  }

  /** The outcome of a route with no middleware, passed through the error handlers of every level. */
  private recover(route: Route, request: Request, outcome: Promise<Response>): Promise<Response> {
    return runLevel(this.global, request, () => runRoute(route, request, () => outcome));
  }

  /** Waits for the response; a failure that no error handler took becomes the error response. */
  private async settle(transport: Transport, request: Request, route: Route | undefined, pending: Promise<Response>): Promise<void> {
    let response: Response;
    try {
      response = await pending;
    } catch (error) {
      response = this.errorResponse(error, route);
    }
    await this.send(transport, request, route, response);
  }

  /** Seals a changed session into the response and writes it; a send that fails before the head is out sends the error response instead. */
  private send(transport: Transport, request: Request, route: Route | undefined, response: Response): void | Promise<void> {
    this.commitSession(request, response);
    let sending: void | Promise<void>;
    try {
      sending = response.send(transport);
    } catch (error) {
      return this.sendFailed(transport, route, error);
    }
    if (sending !== undefined) return sending.then(undefined, (error: unknown) => this.sendFailed(transport, route, error));
  }

  private sendFailed(transport: Transport, route: Route | undefined, error: unknown): void | Promise<void> {
    if (!transport.headersSent) return this.errorResponse(error, route).send(transport);
    this.logger.error(`pyre: sending the response of ${transport.method} ${transport.target} failed`, error);
  }

  /** 404, or for a path some route takes with other methods: 405 or the OPTIONS answer. */
  private unrouted(transport: Transport, routeId: number): Response {
    if (routeId !== -2) return new TextResponse('Not Found', { status: 404 });
    const target = transport.target;
    const q = target.indexOf('?');
    const allow = [...binding.routerAllow(this.routerId, q === -1 ? target : target.slice(0, q)), 'OPTIONS'].sort().join(', ');
    if (transport.method === 'OPTIONS') return new Response(undefined, { status: 204, headers: { allow } });
    return new TextResponse('Method Not Allowed', { status: 405, headers: { allow } });
  }

  private errorResponse(error: unknown, route: Route | undefined): Response {
    if (error instanceof HttpError) return new TextResponse(error.message, { status: error.status });
    this.logger.error(`pyre: unhandled error${route === undefined ? '' : ` in ${route.label}`}`, error);
    const body = this.debug && error instanceof Error ? (error.stack ?? String(error)) : 'Internal Server Error';
    return new Response(body, { status: 500, headers: TEXT });
  }

  private commitSession(request: Request, response: Response): void {
    const session = request.openedSession;
    const sealer = this.context.sealer;
    if (session === undefined || !session.dirty || sealer === null) return;
    const options = this.sessionOptions;
    const cookie = { domain: options.domain, path: options.path ?? '/', secure: options.secure, sameSite: options.sameSite ?? 'Lax' } as const;
    const name = this.context.sessionCookie;
    if (session.size === 0) {
      response.deleteCookie(name, cookie);
    } else {
      const maxAge = options.maxAge ?? 14 * 24 * 3600;
      response.setCookie(name, sealer.seal(session, maxAge), { ...cookie, maxAge, httpOnly: true });
    }
  }
}

const defaultLogger: Logger = { error: (message, error) => console.error(message, error) };

/** Blueprint level outside, endpoint level inside: middleware runs outer to inner, errors are handled inner first. */
function runRoute(route: Route, request: Request, inner: Next): Promise<Response> {
  return runLevel(route.blueprintLevel, request, () => runLevel(route.endpointLevel, request, inner));
}

async function callHandler(route: Route, request: Request, args: readonly unknown[]): Promise<Response> {
  return toResponse(await invoke(route, request, args));
}

/** Calls the handler with the request and the path parameters; the common arities without a spread. */
function invoke(route: Route, request: Request, args: readonly unknown[]): unknown {
  switch (args.length) {
    case 0:
      return route.handler.call(route.blueprint, request);
    case 1:
      return route.handler.call(route.blueprint, request, args[0]);
    case 2:
      return route.handler.call(route.blueprint, request, args[0], args[1]);
    default:
      return route.handler.call(route.blueprint, request, ...args);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** The handler's arguments, or null when a user converter rejects its value (the route does not match). */
function convertParams(route: Route, params: readonly unknown[]): unknown[] | null {
  if (route.converts === null) return params as unknown[];
  const args = [...params];
  for (let i = 0; i < args.length; i++) {
    const convert = route.converts[i];
    if (convert === undefined) continue;
    try {
      args[i] = convert(args[i] as string);
    } catch {
      return null;
    }
    if (args[i] === undefined) return null;
  }
  return args;
}

/**
 * light-my-request, loaded when first needed: it require()s the ESM-only cookie 2, which Node
 * supports only from 20.19, so loading it with the package would break `require('pyre-http')`
 * on older releases.
 */
function lightMyRequest(): typeof import('light-my-request').inject {
  try {
    return (require('light-my-request') as typeof import('light-my-request')).inject;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw err;
    throw new Error(`pyre-http: app.inject() needs Node 20.19 or newer (light-my-request loads an ES module through require); this is ${process.version}`);
  }
}
