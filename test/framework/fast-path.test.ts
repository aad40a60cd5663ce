// Routes with no middleware run synchronously (no promise unless the handler returns one) and send
// default headers as registered blocks. These cases check that nothing else changes on that path:
// error handlers, thenables, middleware added later, sessions, headers touched after construction.
import * as http from 'node:http';
import { App, Blueprint, endpoint, responses, type Request } from '../../src';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

class Plain extends Blueprint {
  constructor() {
    super();
    this.onError((error) => (error instanceof RangeError ? new responses.TextResponse('blueprint handled', { status: 422 }) : undefined));
  }
  @endpoint('/text/{name}')
  text(_request: Request, name: string) {
    return `hi ${name}`;
  }
  @endpoint('/json/{a:int}/{b:int}/{c:int}')
  json(_request: Request, a: number, b: number, c: number) {
    return { sum: a + b + c };
  }
  @endpoint('/empty')
  empty() {
    return undefined;
  }
  @endpoint('/bytes')
  bytes() {
    return Buffer.from('raw');
  }
  @endpoint('/endpoint-error', { onError: [(error) => (error instanceof TypeError ? { handledBy: 'endpoint' } : undefined)] })
  endpointError(): never {
    throw new TypeError('sync');
  }
  @endpoint('/handler-throws', {
    onError: [
      () => {
        throw new RangeError('from the endpoint handler');
      },
    ],
  })
  handlerThrows(): never {
    throw new Error('first');
  }
  @endpoint('/rejects')
  rejects() {
    return Promise.reject(new SyntaxError('async'));
  }
  @endpoint('/crash')
  crash(): never {
    throw new Error('kaboom');
  }
  @endpoint('/circular')
  circular() {
    const value: Record<string, unknown> = {};
    value.self = value;
    return value;
  }
  @endpoint('/async-circular')
  async asyncCircular() {
    const value: Record<string, unknown> = {};
    value.self = value;
    return value;
  }
  @endpoint('/async-json/{n:int}')
  async asyncJson(_request: Request, n: number) {
    return { n };
  }
  @endpoint('/async-count')
  async asyncCount(request: Request) {
    const n = (request.session.get<number>('n') ?? 0) + 1;
    request.session.set('n', n);
    return String(n);
  }
  @endpoint('/thenable')
  thenable() {
    return { then: (resolve: (value: unknown) => void) => resolve('from a thenable') };
  }
  @endpoint('/touched')
  touched() {
    const response = new responses.JSONResponse({ ok: true });
    response.headers.set('x-extra', 'yes');
    return response.setCookie('flavour', 'plain');
  }
  @endpoint('/typed')
  typed() {
    return new responses.JSONResponse([1], { headers: { 'content-type': 'application/vnd.test+json' } });
  }
  @endpoint('/count')
  count(request: Request) {
    const n = (request.session.get<number>('n') ?? 0) + 1;
    request.session.set('n', n);
    return String(n);
  }
  @endpoint('/params/{id:int}/{name}')
  params(request: Request) {
    return request.params;
  }
}

function appWithPlainRoutes(logged: unknown[]): App {
  const app = new App({ sessionKeys: ['fast'], logger: { error: (_message, error) => logged.push(error) } });
  app.onError((error) => (error instanceof SyntaxError ? new responses.JSONResponse({ handledBy: 'global' }, { status: 400 }) : undefined));
  return app.addBlueprint(new Plain());
}

/** The same expectations through the engine's fast path and through app.inject(). */
const transports: [string, (app: App) => Promise<{ get(path: string, headers?: Record<string, string>): Promise<Reply>; close(): Promise<void> }>][] = [
  [
    'fast path',
    async (app) => {
      const server = await app.listen(0, '127.0.0.1');
      return { get: (path, headers) => get(server.address().port, path, headers), close: () => server.close() };
    },
  ],
  [
    'inject',
    async (app) => ({
      get: async (path, headers) => {
        const res = await app.inject({ url: path, headers });
        return { status: res.statusCode, headers: res.headers as http.IncomingHttpHeaders, body: res.body };
      },
      close: async () => undefined,
    }),
  ],
];

describe.each(transports)('routes without middleware (%s)', (_name, start) => {
  const logged: unknown[] = [];
  const app = appWithPlainRoutes(logged);
  let client: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    client = await start(app);
  });
  afterAll(() => client.close());
  beforeEach(() => {
    logged.length = 0;
  });

  test('results become responses with their default content type', async () => {
    const text = await client.get('/text/x');
    expect([text.status, text.headers['content-type'], text.body]).toEqual([200, 'text/plain; charset=utf-8', 'hi x']);
    const json = await client.get('/json/1/2/3');
    expect([json.headers['content-type'], JSON.parse(json.body)]).toEqual(['application/json; charset=utf-8', { sum: 6 }]);
    const bytes = await client.get('/bytes');
    expect([bytes.headers['content-type'], bytes.body]).toEqual(['application/octet-stream', 'raw']);
    const empty = await client.get('/empty');
    expect([empty.status, empty.headers['content-type'], empty.body]).toEqual([204, undefined, '']);
  });

  test('unrouted requests and values that do not convert are 404s', async () => {
    const missing = await client.get('/nowhere');
    expect([missing.status, missing.headers['content-type'], missing.body]).toEqual([404, 'text/plain; charset=utf-8', 'Not Found']);
    expect((await client.get('/json/1/2/x')).status).toBe(404);
  });

  test('request.params names the converted values', async () => {
    expect(JSON.parse((await client.get('/params/7/seven')).body)).toEqual({ id: 7, name: 'seven' });
  });

  test('headers and cookies added after construction are sent with the default type', async () => {
    const res = await client.get('/touched');
    expect([res.headers['content-type'], res.headers['x-extra'], [res.headers['set-cookie']].flat()]).toEqual([
      'application/json; charset=utf-8',
      'yes',
      ['flavour=plain'],
    ]);
    expect((await client.get('/typed')).headers['content-type']).toBe('application/vnd.test+json');
  });

  test('a synchronous throw reaches the endpoint, blueprint and global error handlers in turn', async () => {
    const endpointLevel = await client.get('/endpoint-error');
    expect([endpointLevel.status, JSON.parse(endpointLevel.body)]).toEqual([200, { handledBy: 'endpoint' }]);
    // The endpoint's handler throws a RangeError, which the blueprint level handles.
    const blueprintLevel = await client.get('/handler-throws');
    expect([blueprintLevel.status, blueprintLevel.body]).toEqual([422, 'blueprint handled']);
    const globalLevel = await client.get('/rejects');
    expect([globalLevel.status, JSON.parse(globalLevel.body)]).toEqual([400, { handledBy: 'global' }]);
    expect(logged).toEqual([]);
  });

  test('unhandled errors, also from turning the result into a response, are logged 500s', async () => {
    const crash = await client.get('/crash');
    expect([crash.status, crash.body]).toEqual([500, 'Internal Server Error']);
    const circular = await client.get('/circular');
    expect(circular.status).toBe(500);
    expect(logged.map((error) => (error as Error).constructor.name)).toEqual(['Error', 'TypeError']);
  });

  test('an async handler: its value sent as a synchronous one is, a failure to turn it into a response a logged 500', async () => {
    const json = await client.get('/async-json/7');
    expect([json.status, json.headers['content-type'], JSON.parse(json.body)]).toEqual([200, 'application/json; charset=utf-8', { n: 7 }]);
    const circular = await client.get('/async-circular');
    expect(circular.status).toBe(500);
    expect(logged.map((error) => (error as Error).constructor.name)).toEqual(['TypeError']);
  });

  test('a session changed by an async handler is sealed into its cookie', async () => {
    const first = await client.get('/async-count');
    const cookie = [first.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('pyre_session='));
    expect([first.body, cookie]).toEqual(['1', expect.any(String)]);
    expect((await client.get('/async-count', { cookie: String(cookie).split(';')[0] })).body).toBe('2');
  });

  test('a thenable that is not a native promise is awaited', async () => {
    expect((await client.get('/thenable')).body).toBe('from a thenable');
  });

  test('a session changed by a synchronous handler is sealed into its cookie', async () => {
    const first = await client.get('/count');
    const cookie = [first.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('pyre_session='));
    expect([first.body, first.headers['content-type'], cookie]).toEqual(['1', 'text/plain; charset=utf-8', expect.any(String)]);
    const second = await client.get('/count', { cookie: String(cookie).split(';')[0] });
    expect(second.body).toBe('2');
  });
});

describe('middleware added after the routes', () => {
  test('applies from the next request on, at the global and blueprint levels', async () => {
    const blueprint = new Plain();
    const app = new App().addBlueprint(blueprint);
    const server = await app.listen(0, '127.0.0.1');
    const port = server.address().port;
    try {
      expect((await get(port, '/text/a')).body).toBe('hi a');
      app.use(async (_request, next) => {
        const response = await next();
        response.headers.set('x-global', '1');
      });
      expect((await get(port, '/text/b')).headers['x-global']).toBe('1');
      blueprint.use((request) => (request.headers.get('x-stop') === 'yes' ? new responses.TextResponse('stopped', { status: 403 }) : undefined));
      const stopped = await get(port, '/text/c', { 'x-stop': 'yes' });
      expect([stopped.status, stopped.body, stopped.headers['x-global']]).toEqual([403, 'stopped', '1']);
    } finally {
      await server.close();
    }
  });
});

describe('Response headers', () => {
  test('read after construction, they hold the default content type and accept changes', () => {
    const response = new responses.TextResponse('x');
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    response.headers.set('content-type', 'text/csv');
    expect([...response.headers]).toEqual([['content-type', 'text/csv']]);
    expect([...new responses.Response(undefined, { status: 204 }).headers]).toEqual([]);
  });
});
