// An ordinary Fastify 5 app, its server made by the serverFactory option as Fastify's docs show.
import { Readable } from 'node:stream';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import type { CreateServer } from './differential';

export function buildFastifyApp(createServer: CreateServer, staticDir: string): FastifyInstance {
  const app = Fastify({
    serverFactory: (handler) => createServer(handler) as never,
    keepAliveTimeout: 4000,
  });
  void app.register(fastifyStatic, { root: staticDir, prefix: '/static/' });
  void app.register(fastifyMultipart);

  app.get('/hello', async () => 'Hello from Fastify');
  app.get('/json', async (request) => ({ query: request.query, ip: request.ip, protocol: request.protocol }));
  app.post('/users', {
    schema: {
      body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, age: { type: 'integer' } } },
      response: { 201: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } } },
    },
  }, async (request, reply) => {
    const body = request.body as { name: string };
    return reply.code(201).send({ id: 7, name: body.name, secret: 'dropped by the schema' });
  });
  app.get('/stream', async (_request, reply) => {
    reply.type('text/plain');
    return reply.send(Readable.from(['one ', 'two ', 'three']));
  });
  app.get('/hijack', (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/plain', 'x-hijacked': 'yes' });
    reply.raw.write('raw ');
    reply.raw.end('reply');
  });
  app.get('/fail', async () => {
    throw Object.assign(new Error('fastify failure'), { statusCode: 409 });
  });
  app.post('/upload', async (request) => {
    const parts: { field: string; filename?: string; size: number }[] = [];
    for await (const part of request.parts()) {
      if (part.type === 'file') parts.push({ field: part.fieldname, filename: part.filename, size: (await part.toBuffer()).length });
      else parts.push({ field: part.fieldname, size: String(part.value).length });
    }
    return { parts };
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ missing: request.url });
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    void reply.code(error.statusCode ?? 500).send({ failed: error.message });
  });
  return app;
}
