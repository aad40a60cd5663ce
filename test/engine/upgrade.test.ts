// Protocol switching: a 101 answer to an upgrade request turns the connection into raw bytes
// both ways, through the same exchange (the hand-off point WebSocket builds on).
import * as net from 'node:net';
import type { Exchange } from '../../src/engine/exchange';
import { getOnce, startServer, stopAll } from './helpers';

afterEach(stopAll);

const upgradeRequest = 'GET /chat HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n';

/** Answers upgrade requests with 101 and echoes every raw byte back upper-cased. */
function shoutServer(seen: { upgrade?: boolean; ended?: boolean }) {
  return startServer((ex: Exchange) => {
    if (!ex.wantsUpgrade) return ex.respond(200, 'plain');
    seen.upgrade = true;
    ex.writeHead(101, { Connection: 'Upgrade', Upgrade: 'shout' });
    ex.ondata = (chunk) => ex.write(chunk.toString('latin1').toUpperCase());
    ex.onend = () => {
      seen.ended = true;
      ex.end('BYE');
    };
  });
}

function collect(socket: net.Socket): { text: () => string; closed: Promise<void> } {
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { text: () => received, closed };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

test('101 switches to raw bytes both ways; the peer ending its side ends ours', async () => {
  const seen: { upgrade?: boolean; ended?: boolean } = {};
  const { port } = shoutServer(seen);
  const socket = net.connect(port, '127.0.0.1');
  const io = collect(socket);
  socket.write(upgradeRequest);
  await until(() => io.text().includes('\r\n\r\n'));
  const head = io.text();
  expect(head.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
  expect(head).toContain('Upgrade: shout\r\n');
  expect(head).not.toMatch(/content-length|transfer-encoding/i);

  // Raw bytes, including what would look like HTTP, are not parsed as requests any more.
  socket.write('hello GET / HTTP/1.1\r\n\r\n');
  await until(() => io.text().endsWith('HELLO GET / HTTP/1.1\r\n\r\n'));
  socket.end();
  await io.closed;
  expect(seen.ended).toBe(true);
  expect(io.text().endsWith('BYE')).toBe(true);
  expect((await getOnce(port, '/')).body.toString()).toBe('plain');
});

test('101 to a request that did not ask to upgrade is refused with an error', async () => {
  let error: unknown;
  const { port } = startServer((ex) => {
    try {
      ex.writeHead(101, { Upgrade: 'shout' });
    } catch (err) {
      error = err;
      ex.respond(200, 'no switch');
    }
  });
  const response = await getOnce(port, '/');
  expect(String(error)).toMatch(/101 Switching Protocols answers only an upgrade request/);
  expect(response.body.toString()).toBe('no switch');
});

test('an upgrade request answered normally stays HTTP', async () => {
  const { port } = shoutServer({});
  const socket = net.connect(port, '127.0.0.1');
  const io = collect(socket);
  socket.write('GET / HTTP/1.1\r\nHost: t\r\nUpgrade: shout\r\n\r\n');
  await until(() => io.text().endsWith('plain'));
  socket.destroy();
});

test('destroy() right after a raw write still sends what was written, then closes', async () => {
  const { port } = startServer((ex: Exchange) => {
    ex.writeHead(101, { Connection: 'Upgrade', Upgrade: 'shout' });
    ex.ondata = () => {
      ex.write('last words');
      ex.destroy();
    };
  });
  const socket = net.connect(port, '127.0.0.1');
  const io = collect(socket);
  socket.write(upgradeRequest);
  await until(() => io.text().includes('\r\n\r\n'));
  socket.write('hi');
  await io.closed;
  expect(io.text().endsWith('last words')).toBe(true);
});

test('a peer that ends its side before the 101 goes out still gets its end reported after the switch', async () => {
  const seen: { ended?: boolean } = {};
  const { port } = startServer((ex: Exchange) => {
    // The 101 goes out only after the client's FIN has arrived.
    setTimeout(() => {
      ex.writeHead(101, { Connection: 'Upgrade', Upgrade: 'shout' });
      ex.onend = () => {
        seen.ended = true;
        ex.end('BYE');
      };
    }, 100);
  });
  const socket = net.connect(port, '127.0.0.1');
  const io = collect(socket);
  socket.end(upgradeRequest);
  await io.closed;
  expect(seen.ended).toBe(true);
  expect(io.text().startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
  expect(io.text().endsWith('BYE')).toBe(true);
});

describe('CONNECT tunnels (allowConnect)', () => {
  const connect = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n';

  test('a 2xx answer opens a raw tunnel: no length or chunking, raw bytes both ways', async () => {
    const { port } = startServer((ex: Exchange) => {
      expect([ex.method, ex.url, ex.wantsUpgrade]).toEqual(['CONNECT', 'example.com:443', true]);
      ex.writeHead(200, {}, -1, 'Connection Established');
      ex.ondata = (chunk) => ex.write(chunk.toString('latin1').toUpperCase());
      ex.onend = () => ex.end('BYE');
    }, { allowConnect: true });
    const socket = net.connect(port, '127.0.0.1');
    const io = collect(socket);
    socket.write(connect);
    await until(() => io.text().includes('\r\n\r\n'));
    expect(io.text()).toMatch(/^HTTP\/1\.1 200 Connection Established\r\nDate: [^\r]+\r\n\r\n$/);
    socket.write('tls hello GET / HTTP/1.1\r\n\r\n');
    await until(() => io.text().endsWith('TLS HELLO GET / HTTP/1.1\r\n\r\n'));
    socket.end();
    await io.closed;
    expect(io.text().endsWith('BYE')).toBe(true);
  });

  test('a non-2xx answer is an ordinary response; 101 and a 2xx with a length are errors', async () => {
    const errors: string[] = [];
    const { port } = startServer((ex: Exchange) => {
      for (const attempt of [() => ex.writeHead(101), () => ex.writeHead(200, { 'content-length': '2' })]) {
        try {
          attempt();
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
      ex.respond(407, 'who are you', { 'proxy-authenticate': 'Basic' });
    }, { allowConnect: true });
    const socket = net.connect(port, '127.0.0.1');
    const io = collect(socket);
    socket.write(connect);
    await until(() => io.text().endsWith('who are you'));
    socket.destroy();
    expect(io.text()).toMatch(/^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
    expect(io.text()).toMatch(/Content-Length: 11\r\n/i);
    expect(errors).toEqual(['pyre: 101 Switching Protocols answers only an upgrade request', 'pyre: a 2xx answer to CONNECT has no Content-Length or Transfer-Encoding']);
  });

  test('refused with 501 unless allowed', async () => {
    const { port } = startServer(() => undefined);
    const socket = net.connect(port, '127.0.0.1');
    const io = collect(socket);
    socket.write(connect);
    await io.closed;
    expect(io.text()).toMatch(/^HTTP\/1\.1 501 Not Implemented\r\n/);
  });
});

describe('input behind an upgrade request waits for the answer', () => {
  test('bytes sent right behind it arrive raw after a late 101, even when they look like HTTP', async () => {
    const { port } = startServer((ex: Exchange) => {
      setTimeout(() => {
        ex.writeHead(101, { Connection: 'Upgrade', Upgrade: 'shout' });
        ex.ondata = (chunk) => ex.write(chunk.toString('latin1').toUpperCase());
      }, 30);
    });
    const socket = net.connect(port, '127.0.0.1');
    const io = collect(socket);
    socket.write(`${upgradeRequest}early GET / HTTP/1.1\r\n\r\n`);
    await until(() => io.text().endsWith('EARLY GET / HTTP/1.1\r\n\r\n'));
    expect(io.text()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    socket.destroy();
  });

  test('answered normally, what follows is parsed as the next request', async () => {
    const seen: string[] = [];
    const { port } = startServer((ex: Exchange) => {
      seen.push(ex.url);
      setTimeout(() => ex.respond(200, `plain ${ex.url}`), 10);
    });
    const socket = net.connect(port, '127.0.0.1');
    const io = collect(socket);
    socket.write(`${upgradeRequest}GET /next HTTP/1.1\r\nHost: t\r\n\r\n`);
    await until(() => io.text().includes('plain /next'));
    expect(seen).toEqual(['/chat', '/next']);
    expect(io.text().indexOf('plain /chat')).toBeLessThan(io.text().indexOf('plain /next'));
    socket.destroy();
  });
});
