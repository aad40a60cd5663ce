// `node -r pyre-http/register app.js` or `import 'pyre-http/register'`: from here on http.createServer
// returns a Pyre server, so an unmodified app (Express's app.listen() included) runs on the
// engine. TLS and HTTP/2 servers stay node's own, with a one-line warning.
// http.IncomingMessage and http.ServerResponse become Pyre's stand-ins (compat/node-exports.ts),
// so a framework required afterwards (Express) builds its prototypes on Pyre's fast ones.
// `import x = require()` binds node's module objects themselves (a namespace import would be a
// read-only copy), so the assignments below reach every later caller.
import http = require('node:http');
import http2 = require('node:http2');
import https = require('node:https');
import { syncBuiltinESMExports } from 'node:module';
import { IncomingMessage, ServerResponse } from '../compat/node-exports';
import { createServer, Server as PyreServer, type RequestListener, type ServerOptions } from '../compat/server';

/** Options of node's createServer that only node's own server implements. */
const NODE_ONLY_OPTIONS = ['IncomingMessage', 'ServerResponse', 'key', 'cert', 'pfx'];

const warned = new Set<string>();
function warnOnce(what: string): void {
  if (warned.has(what)) return;
  warned.add(what);
  process.emitWarning(`pyre-http/register: ${what} stays on node's own server (Pyre serves plain HTTP/1.1).`);
}

const nodeCreateServer = http.createServer;

/** The option only node's server implements, if `options` has one (it then stays node's). */
function nodeOnlyOption(options: unknown, call: string): string | undefined {
  if (typeof options !== 'object' || options === null) return undefined;
  const nodeOnly = NODE_ONLY_OPTIONS.find((name) => name in options);
  if (nodeOnly !== undefined) warnOnce(`${call} with the ${nodeOnly} option`);
  return nodeOnly;
}

function pyreCreateServer(a?: ServerOptions | RequestListener, b?: RequestListener): unknown {
  if (nodeOnlyOption(a, 'http.createServer') !== undefined) return nodeCreateServer(a as http.ServerOptions, b);
  if (typeof a === 'object' && a !== null) return createServer(a, b);
  return createServer(a ?? (b as RequestListener));
}

const NodeServer = http.Server;

/**
 * `http.Server`, called with or without `new` (node allows both) and subclassed with `extends`:
 * a Pyre server (node's, for node-only options). `instanceof http.Server` holds for both kinds.
 */
const PyreServerExport = function Server(this: unknown, a?: ServerOptions | RequestListener, b?: RequestListener): object {
  const target = new.target as unknown as (new (...args: unknown[]) => object) | undefined;
  if (nodeOnlyOption(a, 'new http.Server') !== undefined) return Reflect.construct(NodeServer, [a, b], target ?? NodeServer);
  const args = typeof a === 'function' ? [{}, a] : [a ?? {}, b];
  return Reflect.construct(PyreServer, args, target ?? (PyreServerExport as unknown as typeof PyreServer));
};
PyreServerExport.prototype = PyreServer.prototype;
Object.setPrototypeOf(PyreServerExport, PyreServer);
Object.defineProperty(PyreServerExport, Symbol.hasInstance, { value: (value: unknown) => value instanceof PyreServer || value instanceof NodeServer });

function leaveToNode<F extends (...args: never[]) => unknown>(what: string, create: F): F {
  return ((...args: Parameters<F>) => {
    warnOnce(what);
    return create(...args);
  }) as F;
}

(http as { createServer: unknown }).createServer = pyreCreateServer;
(http as { Server: unknown }).Server = PyreServerExport;
(http as { IncomingMessage: unknown }).IncomingMessage = IncomingMessage;
(http as { ServerResponse: unknown }).ServerResponse = ServerResponse;
(https as { createServer: unknown }).createServer = leaveToNode('https.createServer', https.createServer);
(http2 as { createServer: unknown }).createServer = leaveToNode('http2.createServer', http2.createServer);
(http2 as { createSecureServer: unknown }).createSecureServer = leaveToNode('http2.createSecureServer', http2.createSecureServer);
// `import { createServer } from 'node:http'` in ES modules sees the replacement too.
syncBuiltinESMExports();
