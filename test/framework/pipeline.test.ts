// Middleware and error handlers at the three levels: order, short-circuit, seeing the response.
import { App, Blueprint, endpoint, HttpError, responses, type Middleware, type Request } from '../../src';

function tracer(trace: string[], name: string): Middleware {
  return async (_request, next) => {
    trace.push(`${name}>`);
    const response = await next();
    trace.push(`<${name}:${response.status}`);
    response.headers.append('x-seen-by', name);
  };
}

describe('middleware and error handlers', () => {
  const trace: string[] = [];
  const logged: unknown[] = [];
  const app = new App({ logger: { error: (_message, error) => logged.push(error) } });

  class Shop extends Blueprint {
    constructor() {
      super();
      this.use(tracer(trace, 'blueprint'));
      this.onError((error) => (error instanceof RangeError ? new responses.TextResponse('blueprint handled', { status: 422 }) : undefined));
    }
    @endpoint('/shop/item', { middleware: [tracer(trace, 'endpoint')] })
    item() {
      trace.push('handler');
      return 'item';
    }
    @endpoint('/shop/guarded', {
      middleware: [(request) => (request.headers.get('x-key') === 'yes' ? undefined : new responses.TextResponse('no key', { status: 401 }))],
    })
    guarded() {
      return 'secret';
    }
    @endpoint('/shop/range')
    range(): never {
      throw new RangeError('bad range');
    }
    @endpoint('/shop/type', { onError: [(error) => (error instanceof TypeError ? { handledBy: 'endpoint' } : undefined)] })
    type(): never {
      throw new TypeError('bad type');
    }
    @endpoint('/shop/global')
    global(): never {
      throw new SyntaxError('for the app');
    }
    @endpoint('/shop/crash')
    crash(): never {
      throw new Error('kaboom');
    }
    @endpoint('/shop/teapot')
    teapot(): never {
      throw new HttpError(418, 'short and stout');
    }
  }

  app.use(tracer(trace, 'global'));
  app.onError((error) => (error instanceof SyntaxError ? new responses.JSONResponse({ handledBy: 'global' }, { status: 400 }) : undefined));
  app.addBlueprint(new Shop());

  beforeEach(() => {
    trace.length = 0;
    logged.length = 0;
  });

  test('levels nest global > blueprint > endpoint, before and after the handler', async () => {
    const res = await app.inject('/shop/item');
    expect(res.body).toBe('item');
    expect(trace).toEqual(['global>', 'blueprint>', 'endpoint>', 'handler', '<endpoint:200', '<blueprint:200', '<global:200']);
    expect(res.headers['x-seen-by']).toEqual(['endpoint', 'blueprint', 'global']);
  });

  test('middleware short-circuits with a response', async () => {
    expect((await app.inject('/shop/guarded')).statusCode).toBe(401);
    const ok = await app.inject({ url: '/shop/guarded', headers: { 'x-key': 'yes' } });
    expect([ok.statusCode, ok.body]).toEqual([200, 'secret']);
  });

  test('global middleware also sees 404s', async () => {
    const res = await app.inject('/nowhere');
    expect(res.statusCode).toBe(404);
    expect(trace).toEqual(['global>', '<global:404']);
  });

  test('error handlers: endpoint first, then blueprint, then global', async () => {
    const typeError = await app.inject('/shop/type');
    expect([typeError.statusCode, typeError.json()]).toEqual([200, { handledBy: 'endpoint' }]);
    const rangeError = await app.inject('/shop/range');
    expect([rangeError.statusCode, rangeError.body]).toEqual([422, 'blueprint handled']);
    const syntaxError = await app.inject('/shop/global');
    expect([syntaxError.statusCode, syntaxError.json()]).toEqual([400, { handledBy: 'global' }]);
    expect(logged).toEqual([]);
  });

  test('an unhandled error is a logged 500 without a stack trace', async () => {
    const res = await app.inject('/shop/crash');
    expect(res.statusCode).toBe(500);
    expect(res.body).toBe('Internal Server Error');
    expect(logged).toHaveLength(1);
    expect((logged[0] as Error).message).toBe('kaboom');
  });

  test('in debug mode the 500 carries the stack', async () => {
    const debug = new App({ debug: true, logger: { error: () => undefined } }).addBlueprint(new Shop());
    const res = await debug.inject('/shop/crash');
    expect(res.statusCode).toBe(500);
    expect(res.body).toMatch(/^Error: kaboom\n\s+at /);
  });

  test('HttpError becomes its status', async () => {
    const res = await app.inject('/shop/teapot');
    expect([res.statusCode, res.body]).toEqual([418, 'short and stout']);
  });

  test('handlers receive the request and may return any supported value', async () => {
    class Returns extends Blueprint {
      @endpoint('/r/{kind}')
      any(request: Request, kind: string) {
        const values: Record<string, unknown> = { text: 'plain', buffer: Buffer.from([1, 2]), array: [1, 'a'], nothing: undefined, obj: { method: request.method } };
        return values[kind];
      }
    }
    const r = new App().addBlueprint(new Returns());
    const text = await r.inject('/r/text');
    expect([text.headers['content-type'], text.body]).toEqual(['text/plain; charset=utf-8', 'plain']);
    const buffer = await r.inject('/r/buffer');
    expect([buffer.headers['content-type'], [...buffer.rawPayload]]).toEqual(['application/octet-stream', [1, 2]]);
    expect((await r.inject('/r/array')).json()).toEqual([1, 'a']);
    expect((await r.inject('/r/obj')).json()).toEqual({ method: 'GET' });
    const nothing = await r.inject('/r/nothing');
    expect([nothing.statusCode, nothing.body]).toEqual([204, '']);
  });
});
