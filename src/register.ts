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
import { createServer, type RequestListener, type ServerOptions } from '../compat/server';

/** Options of node's createServer that only node's own server implements. */
const NODE_ONLY_OPTIONS = ['IncomingMessage', 'ServerResponse', 'key', 'cert', 'pfx'];

const warned = new Set<string>();
function warnOnce(what: string): void {
  if (warned.has(what)) return;
  warned.add(what);
  process.emitWarning(`pyre-http/register: ${what} stays on node's own server (Pyre serves plain HTTP/1.1).`);
}

const nodeCreateServer = http.createServer;

function pyreCreateServer(a?: ServerOptions | RequestListener, b?: RequestListener): unknown {
  if (typeof a === 'object' && a !== null) {
    const nodeOnly = NODE_ONLY_OPTIONS.find((name) => name in a);
    if (nodeOnly !== undefined) {
      warnOnce(`http.createServer with the ${nodeOnly} option`);
      return nodeCreateServer(a as http.ServerOptions, b);
    }
    return createServer(a, b);
  }
  return createServer(a ?? (b as RequestListener));
}

function leaveToNode<F extends (...args: never[]) => unknown>(what: string, create: F): F {
  return ((...args: Parameters<F>) => {
    warnOnce(what);
    return create(...args);
  }) as F;
}

(http as { createServer: unknown }).createServer = pyreCreateServer;
(http as { IncomingMessage: unknown }).IncomingMessage = IncomingMessage;
(http as { ServerResponse: unknown }).ServerResponse = ServerResponse;
(https as { createServer: unknown }).createServer = leaveToNode('https.createServer', https.createServer);
(http2 as { createServer: unknown }).createServer = leaveToNode('http2.createServer', http2.createServer);
(http2 as { createSecureServer: unknown }).createSecureServer = leaveToNode('http2.createSecureServer', http2.createSecureServer);
// `import { createServer } from 'node:http'` in ES modules sees the replacement too.
syncBuiltinESMExports();
