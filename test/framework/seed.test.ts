// The seed's example, loaded as users load blueprints, answered through app.inject().
import { App } from '../../src';

describe('the seed example (examples/framework/blueprints/hello.ts)', () => {
  let app: App;

  beforeAll(async () => {
    app = new App();
    await app.load('../../examples/framework/blueprints/hello');
  });

  test('GET returns text with the converted parameter', async () => {
    const res = await app.inject({ method: 'GET', url: '/hello/world' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toBe('Hello, world!');
  });

  test('percent-encoded segments arrive decoded', async () => {
    const res = await app.inject({ method: 'GET', url: '/hello/J%C3%BCrgen%2FX' });
    expect(res.body).toBe('Hello, Jürgen/X!');
  });

  test('POST reads the JSON body', async () => {
    const res = await app.inject({ method: 'POST', url: '/hello/ann', payload: { age: 41 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ message: 'Hello, ann! You are aged: 41' });
  });

  test('malformed JSON is a 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/hello/ann', payload: '{"age":', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
  });

  test('HEAD is answered by the GET route without a body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/hello/world' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('13');
    expect(res.body).toBe('');
  });

  test('405 with Allow, OPTIONS with Allow, 404 elsewhere', async () => {
    const put = await app.inject({ method: 'PUT', url: '/hello/world' });
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD, OPTIONS, POST');
    const options = await app.inject({ method: 'OPTIONS', url: '/hello/world' });
    expect(options.statusCode).toBe(204);
    expect(options.headers.allow).toBe('GET, HEAD, OPTIONS, POST');
    expect((await app.inject({ method: 'GET', url: '/hello' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/hello/a/b' })).statusCode).toBe(404);
  });
});
