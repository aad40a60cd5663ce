// Fastify on Pyre: the serverFactory example from Fastify's docs, with Pyre's createServer in
// place of node's http.createServer.
//   node examples/compat/fastify-app.js
const { createServer } = require('pyre-http');
const Fastify = require('fastify');

const serverFactory = (handler) => {
  const server = createServer((req, res) => {
    handler(req, res);
  });
  return server;
};

const app = Fastify({ serverFactory });

app.get('/', async () => ({ hello: 'from Fastify on Pyre' }));

app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' }).then((address) => {
  console.log(`Fastify listening on ${address}`);
});
