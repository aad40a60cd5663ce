// Preloaded (after pyre-http/register, when it is there) into every process a node-suite test
// runs, forked children included: counts the HTTP servers the process starts, by kind, and
// appends `{ node, pyre }` to the file named by PYRE_NODE_SUITE_PROBE at exit. A server counts
// once, when http.createServer makes it or when it listens.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const out = process.env.PYRE_NODE_SUITE_PROBE;
const seen = new WeakSet();
const started = { node: 0, pyre: 0 };

let PyreServer = null;
try {
  // Loaded only if register already loaded it: the probe must not change what plain node runs.
  const compat = path.join(__dirname, '..', '..', 'dist', 'compat', 'server.js');
  if (require.cache[compat] !== undefined) PyreServer = require(compat).Server;
} catch {
  // No build: plain node only.
}

function count(server) {
  if (server === null || typeof server !== 'object' || seen.has(server)) return;
  let kind = null;
  if (PyreServer !== null && server instanceof PyreServer) kind = 'pyre';
  else if (server instanceof http.Server) kind = 'node';
  if (kind === null) return;
  seen.add(server);
  started[kind]++;
}

const createServer = http.createServer;
http.createServer = function (...args) {
  const server = createServer.apply(this, args);
  count(server);
  return server;
};

const netListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  count(this);
  return netListen.apply(this, args);
};

if (PyreServer !== null) {
  const pyreListen = PyreServer.prototype.listen;
  PyreServer.prototype.listen = function (...args) {
    count(this);
    return pyreListen.apply(this, args);
  };
}

if (out) {
  process.on('exit', () => {
    try {
      fs.appendFileSync(out, `${JSON.stringify(started)}\n`);
    } catch {
      // The runner treats a missing count as "no server started".
    }
  });
}
