#!/usr/bin/env node
// `npm start`: serves the example app on the engine's fast path and prints its URL.
'use strict';
const { serve, HeaderBlock } = require('..');

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const text = new HeaderBlock({ 'content-type': 'text/plain; charset=utf-8' });
const json = new HeaderBlock({ 'content-type': 'application/json' });

const server = serve(async (exchange) => {
  if (exchange.method === 'POST' && exchange.path === '/echo') {
    const body = await exchange.body(1 << 20);
    exchange.respond(200, body, { 'content-type': exchange.header('content-type') ?? 'application/octet-stream' });
  } else if (exchange.path === '/json') {
    exchange.respond(200, JSON.stringify({ hello: 'world', at: new Date().toISOString() }), json);
  } else {
    exchange.respond(200, 'Hello, World!\n', text);
  }
});

const address = server.listen({ port, host });
console.log(`pyre example listening on http://${host}:${address.port}/`);
process.on('SIGINT', () => server.close(() => process.exit(0)));
