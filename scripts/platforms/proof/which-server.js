// Preloaded after pyre-http/register beside an unmodified app (express-app.js): writes to the
// file named by PROOF_SERVER_FILE which server class the app's http.createServer() returned and
// the port it listens on, so the checks know the app runs on Pyre, not on node's own server.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { Server } = require('pyre-http');

const create = http.createServer;
http.createServer = function createServer(...args) {
  const server = create.apply(this, args);
  server.on('listening', () => {
    const report = { onPyre: server instanceof Server, port: server.address().port, node: process.version, platform: process.platform };
    fs.writeFileSync(`${process.env.PROOF_SERVER_FILE}.tmp`, JSON.stringify(report));
    fs.renameSync(`${process.env.PROOF_SERVER_FILE}.tmp`, process.env.PROOF_SERVER_FILE);
  });
  return server;
};
