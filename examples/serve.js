#!/usr/bin/env node
// `npm start`: serves the example app (examples/framework/app.ts, compiled by `npm install`)
// on the engine's fast path and prints its URL.
'use strict';
const { createApp } = require('../dist/examples/framework/app.js');

const port = Number(process.env.PORT ?? 8000);
const host = process.env.HOST ?? '127.0.0.1';

createApp()
  .then((app) => app.listen(port, host))
  .then((server) => {
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${server.address().port}/`;
    console.log(`pyre example app listening on ${url}`);
    console.log(`try: curl ${url}hello/world   curl ${url}api/users/1   curl ${url}count/5`);
    process.once('SIGINT', () => server.close().then(() => process.exit(0)));
    process.once('SIGTERM', () => server.close().then(() => process.exit(0)));
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
