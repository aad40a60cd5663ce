// Fastify 5: GET / and the two framework routes (the last with a typed integer parameter), a
// JSON echo through Fastify's own body parser, an upload counted by a streaming content-type
// parser, large answers from a Buffer and from a file stream, and @fastify/static.
const fs = require('node:fs');
const Fastify = require('fastify');
const fastifyStatic = require('@fastify/static');
const fixtures = require('../lib/fixtures');

const BUFFERS = { '64k': fixtures.body('64k'), '1m': fixtures.body('1m') };
const FILES = { '64k': fixtures.file('64k'), '1m': fixtures.file('1m') };

/** Builds the app; fastify-pyre.js passes a serverFactory, run directly it uses node:http. */
function build(options = {}) {
  const app = Fastify(options);
  app.get('/', (request, reply) => {
    reply.type('text/plain').send('Hello, World!');
  });
  app.get('/hello/:name', (request, reply) => {
    reply.type('text/plain').send(`Hello, ${request.params.name}!`);
  });
  app.get('/users/:id', {
    schema: { params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } },
  }, (request) => ({ id: request.params.id, name: `User ${request.params.id}` }));
  app.post('/echo', (request) => ({ ...request.body, echoed: true }));
  // The body is counted as it streams in; the route sees the count.
  app.addContentTypeParser('application/octet-stream', (request, payload, done) => {
    let bytes = 0;
    payload.on('data', (chunk) => { bytes += chunk.length; });
    payload.on('end', () => done(null, bytes));
    payload.on('error', done);
  });
  app.post('/upload', (request) => ({ bytes: request.body }));
  app.get('/buffer/:size', (request, reply) => {
    reply.type('application/octet-stream').send(BUFFERS[request.params.size]);
  });
  app.get('/stream/:size', (request, reply) => {
    const file = FILES[request.params.size];
    reply.type('application/octet-stream').header('content-length', fs.statSync(file).size).send(fs.createReadStream(file));
  });
  app.register(fastifyStatic, { root: fixtures.FIXTURE_DIR, prefix: '/static/' });
  return app;
}

if (require.main === module) {
  build().listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
}

module.exports = build;
