// The Request: lazy headers, query, cookies, body readers and limits, socket info.
import * as http from 'node:http';
import { App, Blueprint, endpoint, type Request } from '../../src';

class Echo extends Blueprint {
  @endpoint('/info/{name}')
  info(request: Request) {
    return {
      method: request.method,
      url: request.url,
      query: request.query,
      agent: request.headers.get('user-agent'),
      multi: request.headers.getAll('x-multi'),
      cookie: request.cookies.get('flavour') ?? null,
      remote: request.remoteAddress,
      server: request.serverInfo,
    };
  }
  @endpoint('/body', { methods: ['POST'] })
  async body(request: Request) {
    const text = await request.text();
    const again = await request.read();
    return { text, bytes: again.length };
  }
  @endpoint('/json', { methods: ['POST'] })
  async json(request: Request) {
    return { got: await request.json() };
  }
  @endpoint('/iter', { methods: ['POST'] })
  async iter(request: Request) {
    const pieces: string[] = [];
    for await (const piece of request.textIter()) pieces.push(piece);
    return pieces.join('');
  }
  @endpoint('/count', { methods: ['POST'] })
  async count(request: Request) {
    let bytes = 0;
    let chunks = 0;
    let sum = 0;
    for await (const chunk of request.chunks()) {
      chunks += 1;
      bytes += chunk.length;
      for (const byte of chunk) sum = (sum + byte) % 65521;
    }
    return { bytes, chunks, sum };
  }
}

/** POSTs `body` to the app on the fast path and resolves with the JSON answer. */
async function postOverSocket(app: App, path: string, body: Buffer): Promise<Record<string, number>> {
  const server = await app.listen(0, '127.0.0.1');
  try {
    return await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.address().port, path, method: 'POST', agent: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    await server.close();
  }
}

describe('Request', () => {
  const app = new App({ bodyLimit: 64 }).addBlueprint(new Echo());

  test('method, decoded url, query with repeats, headers, cookies, addresses', async () => {
    const res = await app.inject({
      url: '/info/caf%C3%A9?a=1&b=x%20y&a=2&__proto__=p',
      headers: { 'user-agent': 'tester', 'x-multi': ['1', '2'], cookie: 'flavour=choc%20chip; other=1' },
      remoteAddress: '10.1.2.3',
    });
    const info = res.json();
    expect(info).toMatchObject({
      method: 'GET',
      url: '/info/café',
      query: { a: ['1', '2'], b: 'x y', __proto__: 'p' },
      agent: 'tester',
      cookie: 'choc chip',
      remote: ['10.1.2.3', expect.any(Number)],
    });
    expect(info.multi.join(', ')).toBe('1, 2');
    expect(info.server).toHaveLength(2);
  });

  test('text() and read() share one read of the body', async () => {
    expect((await app.inject({ method: 'POST', url: '/body', payload: 'héllo' })).json()).toEqual({ text: 'héllo', bytes: 6 });
  });

  test('json(): 400 on malformed JSON, 413 past bodyLimit', async () => {
    expect((await app.inject({ method: 'POST', url: '/json', payload: { a: [1] } })).json()).toEqual({ got: { a: [1] } });
    expect((await app.inject({ method: 'POST', url: '/json', payload: 'nope', headers: { 'content-type': 'application/json' } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/json', payload: { big: 'x'.repeat(100) } })).statusCode).toBe(413);
  });

  test('textIter() decodes multi-byte characters split across chunks', async () => {
    const payload = 'ü'.repeat(200);
    const res = await app.inject({ method: 'POST', url: '/iter', payload });
    expect(res.body).toBe(payload);
  });

  test('chunks() streams the body as it arrives, past bodyLimit (only the server\'s limit applies)', async () => {
    const body = Buffer.alloc(300 * 1024, 'abcdefgh');
    const sum = body.reduce((total, byte) => (total + byte) % 65521, 0);
    const answer = await postOverSocket(app, '/count', body);
    expect(answer).toMatchObject({ bytes: body.length, sum });
    // Read as it arrived: a 300 KiB body comes in more than one piece over a socket.
    expect(answer.chunks).toBeGreaterThan(1);
    expect((await app.inject({ method: 'POST', url: '/count', payload: 'small' })).json()).toMatchObject({ bytes: 5, chunks: 1 });
  });

  test('session without sessionKeys is a clear error (500, logged)', async () => {
    const errors: unknown[] = [];
    class NoKeys extends Blueprint {
      @endpoint('/s')
      s(request: Request) {
        return String(request.session.get('x'));
      }
    }
    const plain = new App({ logger: { error: (_m, e) => errors.push(e) } }).addBlueprint(new NoKeys());
    expect((await plain.inject('/s')).statusCode).toBe(500);
    expect(String(errors[0])).toMatch(/sessionKeys/);
  });
});
