// Koa and hapi, unmodified, on node:http and on Pyre side by side: the drop-in is meant for any
// framework built on node's http API, not only the two the issue names. Answers compared byte for
// byte (Date aside), as in express.test.ts.
import { Readable } from 'node:stream';
import Hapi from '@hapi/hapi';
import Router from '@koa/router';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import { expectSame, listen, close, type Pair, startSides } from './differential';

function koaApp(): Koa {
  const app = new Koa();
  app.silent = true; // Koa logs every error it answers; these are expected.
  const router = new Router();
  router.get('/hello/:name', (ctx) => {
    ctx.set('X-Greeting', 'yes');
    ctx.body = `Hello, ${ctx.params.name}!`;
  });
  router.post('/echo', (ctx) => {
    ctx.body = { got: (ctx.request as unknown as { body: unknown }).body };
  });
  router.get('/teapot', () => {
    throw Object.assign(new Error('short and stout'), { status: 418, expose: true });
  });
  router.get('/crash', () => {
    throw new Error('not for the client');
  });
  router.get('/stream', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = Readable.from(['one ', 'two ', 'three']);
  });
  router.get('/moved', (ctx) => ctx.redirect('/hello/there'));
  router.get('/cookie', (ctx) => {
    ctx.cookies.set('session', 'abc', { httpOnly: true, path: '/' });
    ctx.body = ctx.cookies.get('seen') ?? 'none';
  });
  app.use(bodyParser());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

async function hapiServer(listener: unknown): Promise<Hapi.Server> {
  // debug off: hapi logs every 500 it answers; these are expected.
  const server = Hapi.server({ port: 0, host: '127.0.0.1', listener: listener as Hapi.ServerOptions['listener'], debug: false });
  server.route({ method: 'GET', path: '/hello/{name}', handler: (request, h) => h.response(`Hello, ${request.params.name}!`).header('X-Greeting', 'yes') });
  server.route({ method: 'POST', path: '/echo', handler: (request) => ({ got: request.payload }) });
  server.route({ method: 'GET', path: '/crash', handler: () => { throw new Error('not for the client'); } });
  server.route({ method: 'GET', path: '/stream', handler: (_request, h) => h.response(Readable.from(['one ', 'two ', 'three'], { objectMode: false })).type('text/plain') });
  server.route({ method: 'GET', path: '/moved', handler: (_request, h) => h.redirect('/hello/there') });
  server.route({ method: 'GET', path: '/cookie', handler: (request, h) => h.response(String(request.state.seen ?? 'none')).state('session', 'abc', { isSecure: false, path: '/' }) });
  await server.start();
  return server;
}

const json = { 'content-type': 'application/json' };

describe('Koa on Pyre answers as on node:http', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startSides(async (createServer) => {
      const server = createServer(koaApp().callback());
      return { port: await listen(server), close: () => close(server) };
    });
  });
  afterAll(() => pair.close());

  test('routes, params, headers, HEAD, 404 and 405', async () => {
    expect((await expectSame(pair, { path: '/hello/ada' })).body.toString()).toBe('Hello, ada!');
    await expectSame(pair, { method: 'HEAD', path: '/hello/ada' });
    expect((await expectSame(pair, { path: '/nothing/here' })).status).toBe(404);
    expect((await expectSame(pair, { method: 'DELETE', path: '/hello/ada' })).status).toBe(405);
  });

  test('a JSON body, and a malformed one', async () => {
    expect(JSON.parse((await expectSame(pair, { method: 'POST', path: '/echo', headers: json, body: '{"a":[1,2]}' })).body.toString())).toEqual({ got: { a: [1, 2] } });
    expect((await expectSame(pair, { method: 'POST', path: '/echo', headers: json, body: '{"a":' })).status).toBe(400);
  });

  test('errors, streams, redirects and cookies', async () => {
    expect((await expectSame(pair, { path: '/teapot' })).status).toBe(418);
    expect((await expectSame(pair, { path: '/crash' })).status).toBe(500);
    expect((await expectSame(pair, { path: '/stream' })).body.toString()).toBe('one two three');
    expect((await expectSame(pair, { path: '/moved' })).status).toBe(302);
    expect((await expectSame(pair, { path: '/cookie', headers: { cookie: 'seen=yes' } })).body.toString()).toBe('yes');
  });
});

describe('hapi on Pyre answers as on node:http', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startSides(async (createServer) => {
      const server = await hapiServer(createServer(() => undefined));
      return { port: server.info.port as number, close: () => server.stop() };
    });
  });
  afterAll(() => pair.close());

  test('routes, params, headers, HEAD and 404', async () => {
    expect((await expectSame(pair, { path: '/hello/ada' })).body.toString()).toBe('Hello, ada!');
    await expectSame(pair, { method: 'HEAD', path: '/hello/ada' });
    expect((await expectSame(pair, { path: '/nothing/here' })).status).toBe(404);
  });

  test('a JSON payload, and a malformed one', async () => {
    expect(JSON.parse((await expectSame(pair, { method: 'POST', path: '/echo', headers: json, body: '{"a":[1,2]}' })).body.toString())).toEqual({ got: { a: [1, 2] } });
    expect((await expectSame(pair, { method: 'POST', path: '/echo', headers: json, body: '{"a":' })).status).toBe(400);
  });

  test('errors, streams, redirects and cookies', async () => {
    expect((await expectSame(pair, { path: '/crash' })).status).toBe(500);
    expect((await expectSame(pair, { path: '/stream' })).body.toString()).toBe('one two three');
    expect((await expectSame(pair, { path: '/moved' })).status).toBe(302);
    expect((await expectSame(pair, { path: '/cookie', headers: { cookie: 'seen=yes' } })).body.toString()).toBe('yes');
  });
});
