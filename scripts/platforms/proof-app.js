// The app `npm run test:platforms` installs pyre-http into and runs under each platform's node:
// the native fast path, the framework, Express and Fastify, all from the installed package.
// It writes one JSON line to the file named by its argument once every server listens (a file,
// not stdout: node.exe under wine cannot write to a Unix pipe): the ports, what the running node
// is, and which platform packages npm installed. It serves until killed.
//   PROOF_SERVERS=engine,framework,express,fastify (the default: all four)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const pyre = require('pyre-http');

const wanted = new Set((process.env.PROOF_SERVERS || 'engine,framework,express,fastify').split(','));
const host = '127.0.0.1';

function engine() {
  const text = new pyre.HeaderBlock({ 'content-type': 'text/plain' });
  const server = pyre.serve(async (exchange) => {
    if (exchange.method === 'POST') {
      const body = await exchange.body(1 << 20);
      exchange.respond(200, body, { 'content-type': 'application/octet-stream' });
      return;
    }
    exchange.respond(200, `engine ${exchange.path}`, text);
  });
  return server.listen({ port: 0, host }).port;
}

async function framework() {
  class Greeter extends pyre.Blueprint {
    hello(request, name) {
      return `Hello, ${name}!`;
    }

    async echo(request) {
      return new pyre.responses.JSONResponse({ received: await request.json() });
    }
  }
  const proto = Greeter.prototype;
  pyre.endpoint('/hello/{name:string}')(proto, 'hello', Object.getOwnPropertyDescriptor(proto, 'hello'));
  pyre.endpoint('/echo', { methods: ['POST'] })(proto, 'echo', Object.getOwnPropertyDescriptor(proto, 'echo'));
  const app = new pyre.App();
  app.addBlueprint(new Greeter());
  const server = await app.listen(0, host);
  return server.address().port;
}

async function express() {
  const app = require('express')();
  app.use(require('express').json());
  app.get('/users/:id', (req, res) => res.json({ id: req.params.id, via: 'express' }));
  app.post('/users', (req, res) => res.status(201).json({ created: req.body.name }));
  const server = pyre.createServer(app);
  await new Promise((resolve) => server.listen(0, host, resolve));
  return server.address().port;
}

async function fastify() {
  const app = require('fastify')({ serverFactory: (handler) => pyre.createServer(handler) });
  app.get('/items/:id', async (request) => ({ id: request.params.id, via: 'fastify' }));
  app.post('/items', async (request, reply) => reply.code(201).send({ created: request.body.name }));
  await app.listen({ port: 0, host });
  return app.server.address().port;
}

async function main(readyFile) {
  const servers = { engine, framework, express, fastify };
  const ports = {};
  for (const [name, start] of Object.entries(servers)) if (wanted.has(name)) ports[name] = await start();
  const installed = Object.keys(require('pyre-http/package.json').optionalDependencies).filter((name) => {
    try {
      return Boolean(require.resolve(name));
    } catch {
      return false;
    }
  });
  const ready = {
    ports,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    glibc: process.report.getReport().header.glibcVersionRuntime ?? null,
    installed,
  };
  fs.writeFileSync(`${readyFile}.tmp`, `${JSON.stringify(ready)}\n`);
  fs.renameSync(`${readyFile}.tmp`, readyFile);
}

main(process.argv[2]).catch((err) => {
  console.error(err);
  process.exit(1);
});
