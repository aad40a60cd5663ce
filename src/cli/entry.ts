// What `pyre serve <entry>` serves, decided by loading the entry (under pyre-http/register, so
// a script's own http.createServer is Pyre's):
//   script   it listened by itself while loading (or soon after, e.g. Fastify's async listen):
//            served as it is; with --register this is assumed whatever it exports
//   app      it exports a framework App (default or `app`), or `setup(app)`: served on the
//            fast path with App.listen
//   handler  it exports a node (req, res) function (default, `handler`, or module.exports
//            itself, as an Express app is), or a Koa app (its callback()): served through the
//            drop-in http server
import * as path from 'node:path';
import { createServer, type RequestListener } from '../../compat/server';
import { type AddressInfo, type NativeServer, openServers } from '../engine/server';
import type { EngineOptions } from '../engine/options';
import { App } from '../framework/app';
import { loadModule } from '../framework/load';

/** A mistake in the entry, reported as one line. */
export class EntryError extends Error {}

export type Servable =
  | { kind: 'script' }
  | { kind: 'app'; app: App; how: string }
  | { kind: 'handler'; handler: RequestListener; engine: EngineOptions; how: string };

/** How long a script that exports nothing servable may take to start listening. */
const SCRIPT_START_MS = 5000;

const TYPESCRIPT = /\.[mc]?tsx?$/;

/** The entry's file, resolved as `require` would (extension optional, a directory's index). */
export function resolveEntry(entry: string, cwd = process.cwd()): string {
  const wanted = path.resolve(cwd, entry);
  try {
    return require.resolve(wanted);
  } catch {
    throw new EntryError(`cannot find the entry ${entry} (no file ${wanted}${path.extname(wanted) === '' ? ', with .js, .json or .node, or a directory with an index' : ''})`);
  }
}

function isApp(value: unknown): value is App {
  return value instanceof App;
}

function isKoa(value: unknown): value is { callback(): RequestListener } {
  return typeof value === 'object' && value !== null && typeof (value as { callback?: unknown }).callback === 'function' && typeof (value as { use?: unknown }).use === 'function';
}

/** What the module's exports offer to serve, if anything; setup(app) is run here. */
async function servableExports(exports: unknown, engine: EngineOptions): Promise<Servable | undefined> {
  const record = (typeof exports === 'object' || typeof exports === 'function') && exports !== null ? (exports as Record<string, unknown>) : {};
  const fallback = record.default as Record<string, unknown> | undefined;
  for (const [value, how] of [[record.default, 'the default export'], [record.app, "export 'app'"]] as const) {
    if (isApp(value)) return { kind: 'app', app: value, how: `a framework App from ${how}` };
  }
  const setup = record.setup ?? fallback?.setup;
  if (typeof setup === 'function') {
    const app = new App(engine);
    await (setup as (app: App) => unknown)(app);
    return { kind: 'app', app, how: 'a framework setup(app)' };
  }
  const candidates = [
    [exports, 'module.exports'],
    [record.default, 'the default export'],
    [record.handler, "export 'handler'"],
  ] as const;
  for (const [value, how] of candidates) {
    if (typeof value === 'function') return { kind: 'handler', handler: value as RequestListener, engine, how: `a (req, res) handler from ${how}` };
    if (isKoa(value)) return { kind: 'handler', handler: value.callback(), engine, how: `a Koa app from ${how}` };
  }
  return undefined;
}

function listeningServer(): NativeServer | undefined {
  for (const server of openServers) if (server.listening) return server;
  return undefined;
}

/** Resolves once a server of this process listens, or undefined after `ms`. */
async function firstListening(ms: number): Promise<NativeServer | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const server = listeningServer();
    if (server !== undefined || Date.now() >= deadline) return server;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Loads the entry (pyre-http/register already applied) and decides how to serve it; `engine`
 * options go to the servers made here (not to an exported App or a script's own).
 */
export async function loadEntry(file: string, scriptOnly: boolean, engine: EngineOptions): Promise<Servable> {
  let exports: unknown;
  try {
    exports = await loadModule(file);
  } catch (err) {
    if (TYPESCRIPT.test(file) && (err instanceof SyntaxError || (err as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_FILE_EXTENSION')) {
      throw new EntryError(`${path.basename(file)} is TypeScript, which this node does not run by itself: compile it and serve the .js, or start node with a loader (NODE_OPTIONS="--import tsx" pyre serve ${path.basename(file)})`);
    }
    throw err;
  }
  if (scriptOnly || listeningServer() !== undefined) return { kind: 'script' };
  const servable = await servableExports(exports, engine);
  if (servable !== undefined) return servable;
  if ((await firstListening(SCRIPT_START_MS)) !== undefined) return { kind: 'script' };
  throw new EntryError(
    `${path.basename(file)} exports nothing to serve and did not listen within ${SCRIPT_START_MS / 1000} s: export a framework App or setup(app), a (req, res) handler, or listen in the script`,
  );
}

/** Where pyre serves: a TCP address, or a unix domain socket's path. */
export type ServeTarget = { port: number; host: string } | { path: string };

/** Starts serving (a script has already started itself) and says where it listens. */
export async function serveEntry(servable: Servable, target: ServeTarget): Promise<AddressInfo | string> {
  if (servable.kind === 'app') {
    if ('path' in target) await servable.app.listen(target.path);
    else await servable.app.listen(target.port, target.host);
  } else if (servable.kind === 'handler') {
    const server = createServer(servable.engine, servable.handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if ('path' in target) server.listen(target.path, () => resolve());
      else server.listen(target.port, target.host, () => resolve());
    });
  }
  const server = servable.kind === 'script' ? await firstListening(SCRIPT_START_MS) : listeningServer();
  if (server === undefined) throw new EntryError('the app stopped listening before it started');
  return server.address() as AddressInfo | string;
}
