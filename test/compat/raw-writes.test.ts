// Raw writes on node:http beside Pyre, byte for byte (Date removed): res.writeEarlyHints() (103),
// res.writeProcessing() (102), bytes written to req.socket, in order with the responses around
// them on a pipelined connection, and Fastify's reply.writeEarlyHints() and reply.hijack().
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { closeServer, connectRaw, delay, listen, type Make, onBoth } from './sides';

const routes: Record<string, http.RequestListener> = {
  '/hints': (_req, res) => {
    res.writeEarlyHints({ link: ['</style.css>; rel=preload; as=style', '</app.js>; rel=preload; as=script'], 'x-trace': 'a1' });
    res.end('hinted');
  },
  '/processing': (_req, res) => {
    res.writeProcessing();
    setTimeout(() => res.end('processed'), 20);
  },
  '/slow': (_req, res) => void setTimeout(() => res.end('slow'), 30),
  // Behind /slow: node's socket sends these bytes at once, ahead of /slow's answer.
  '/socket-interim': (req, res) => {
    req.socket.write('HTTP/1.1 102 Processing\r\n\r\n');
    res.end('after the interim');
  },
  // The application writes its own response and ends the socket: the connection is its own.
  '/socket-response': (req) => {
    req.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n');
    req.socket.end('raw');
  },
};

const listener: http.RequestListener = (req, res) => (routes[req.url ?? ''] ?? ((_q, r) => r.end(`plain ${req.url}`)))(req, res);

/** Sends `paths` as pipelined GETs on one connection; every byte received until the server closes or 300 ms pass. */
async function pipelined(port: number, paths: string[]): Promise<string> {
  const { socket, text, closed } = await connectRaw(port);
  socket.write(paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
  await Promise.race([closed, delay(300)]);
  socket.destroy();
  return text().replace(/\r\nDate: [^\r]*/g, '');
}

async function onBothServers(paths: string[]): Promise<[string, string]> {
  return onBoth(async (make: Make) => {
    const server = make(listener);
    const port = await listen(server);
    const text = await pipelined(port, paths);
    await closeServer(server);
    return text;
  });
}

describe('interim responses', () => {
  test('res.writeEarlyHints(): a 103 with the Link fields, then the response; the connection kept', async () => {
    const [node, pyre] = await onBothServers(['/hints', '/next']);
    expect(pyre).toBe(node);
    expect(node).toMatch(/^HTTP\/1\.1 103 Early Hints\r\nLink: <\/style\.css>; rel=preload; as=style, <\/app\.js>; rel=preload; as=script\r\nx-trace: a1\r\n\r\nHTTP\/1\.1 200 OK\r\n.*hinted.*plain \/next$/s);
  });

  test('res.writeProcessing(): a 102 now, the response later', async () => {
    const [node, pyre] = await onBothServers(['/processing', '/next']);
    expect(pyre).toBe(node);
    expect(node).toMatch(/^HTTP\/1\.1 102 Processing\r\n\r\nHTTP\/1\.1 200 OK\r\n.*processed.*plain \/next$/s);
  });
});

describe('bytes written to req.socket', () => {
  test('go out at once, ahead of the answers still owed to requests before them', async () => {
    const [node, pyre] = await onBothServers(['/slow', '/socket-interim', '/next']);
    expect(pyre).toBe(node);
    expect(node).toMatch(/^HTTP\/1\.1 102 Processing\r\n\r\nHTTP\/1\.1 200 OK\r\n.*slow.*after the interim.*plain \/next$/s);
  });

  test("a whole response written raw, then socket.end(): sent in its turn, nothing after it", async () => {
    const [node, pyre] = await onBothServers(['/first', '/socket-response', '/never']);
    expect(pyre).toBe(node);
    expect(node).toMatch(/plain \/firstHTTP\/1\.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nraw$/s);
  });
});

describe('Fastify', () => {
  async function fastifyOnBoth(paths: string[]): Promise<[string, string]> {
    return onBoth(async (make: Make) => {
      const app = Fastify({ serverFactory: (handler) => make(handler) });
      app.get('/hints', async (_request, reply) => {
        reply.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        return 'hinted';
      });
      app.get('/hijack-socket', (request, reply) => {
        reply.hijack();
        request.raw.socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\n');
        request.raw.socket.end('hijacked');
      });
      app.get('/hijack-raw', (_request, reply) => {
        reply.hijack();
        reply.raw.writeHead(200, { 'content-type': 'text/plain' });
        reply.raw.end('raw reply');
      });
      app.get('/next', async () => 'next');
      await app.listen({ port: 0, host: '127.0.0.1' });
      const text = await pipelined((app.server.address() as AddressInfo).port, paths);
      await app.close();
      return text;
    });
  }

  test('reply.writeEarlyHints()', async () => {
    const [node, pyre] = await fastifyOnBoth(['/hints', '/next']);
    expect(pyre).toBe(node);
    expect(node).toMatch(/^HTTP\/1\.1 103 Early Hints\r\nLink: <\/style\.css>; rel=preload; as=style\r\n\r\nHTTP\/1\.1 200 OK\r\n.*hinted.*next$/s);
  });

  test('reply.hijack() writing a response to the socket', async () => {
    const [node, pyre] = await fastifyOnBoth(['/hijack-socket', '/next']);
    expect(pyre).toBe(node);
    expect(node).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked');
  });

  test('reply.hijack() answering through reply.raw', async () => {
    const [node, pyre] = await fastifyOnBoth(['/hijack-raw', '/next']);
    expect(pyre).toBe(node);
    expect(node).toMatch(/raw reply.*next$/s);
  });
});
