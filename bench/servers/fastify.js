// Fastify 5: GET / and the two framework routes, the last with a typed (integer) parameter.
const Fastify = require('fastify');

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
  return app;
}

if (require.main === module) {
  build().listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
}

module.exports = build;
