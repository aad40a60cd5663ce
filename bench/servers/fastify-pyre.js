// The Fastify app of fastify.js on Pyre, through Fastify's documented serverFactory option.
const { createServer } = require('../lib/pyre');
const build = require('./fastify');

build({ serverFactory: (handler) => createServer(handler) })
  .listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
