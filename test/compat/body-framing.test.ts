// Request bodies read past their response, response framing with trailers and declared lengths,
// and node's lower output calls: node:http beside the drop-in, same clients, over real sockets.
import * as http from 'node:http';
import { duplexPair } from 'node:stream';
import { createServer as createPyreServer } from '../../compat/server';
import { closeServer, connectRaw, delay, listen, onBoth } from './sides';

jest.setTimeout(15_000);

/** Everything the server sends for `bytes` until it closes (or `ms` pass), Date values blanked. */
async function rawExchange(port: number, bytes: string, ms = 1000): Promise<string> {
  const connection = await connectRaw(port);
  connection.socket.write(bytes);
  const timer = setTimeout(() => connection.socket.destroy(), ms);
  await connection.closed;
  clearTimeout(timer);
  return connection.text().replace(/\r\nDate: [^\r]*/g, '\r\nDate: <date>');
}

const CHUNKED_POST = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';

describe('a request body read on after its response', () => {
  test('flows to its end with its trailers, the connection then reused', async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const seen: string[] = [];
      const server = make((req, res) => {
        req.on('data', (chunk: Buffer) => seen.push(`data ${chunk.toString()}`));
        req.on('end', () => seen.push(`end ${JSON.stringify(req.rawTrailers)} ${JSON.stringify(req.trailers)}`));
        res.end(req.url);
      });
      const port = await listen(server);
      const connection = await connectRaw(port);
      connection.socket.write('POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
      await delay(100);
      connection.socket.write('0\r\nX-Sum: 1\r\nx-sum: 2\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await connection.closed;
      await closeServer(server);
      return { seen, answers: connection.text().match(/\r\n\r\n\/[ab]/g) };
    });
    // The GET's own request ends too, with no trailers.
    expect(node.seen).toEqual(['data abc', 'end ["X-Sum","1","x-sum","2"] {"x-sum":"1, 2"}', 'end [] {}']);
    expect(node.answers).toEqual(['\r\n\r\n/a', '\r\n\r\n/b']);
    expect(pyre).toEqual(node);
  });

  test('an unread body is still dropped once the response is done', async () => {
    const [node, pyre] = await onBoth(async (make) => {
      let ended = false;
      const server = make((req, res) => {
        res.end('done');
        req.on('end', () => {
          ended = true;
        });
      });
      const port = await listen(server);
      const text = await rawExchange(port, `${CHUNKED_POST}3\r\nabc\r\n0\r\n\r\n`);
      await delay(50);
      await closeServer(server);
      return { ended, text };
    });
    expect(pyre).toEqual(node);
  });
});

describe('response framing', () => {
  test('a Trailer field makes an ended body chunked, with every trailer line as given', async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const server = make((_req, res) => {
        res.setHeader('Trailer', 'x-foo');
        res.addTrailers([['x-fOo', 'a'], ['X-foO', 'b']]);
        res.end('body');
      });
      const port = await listen(server);
      const text = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await closeServer(server);
      return text;
    });
    expect(node).toContain('Transfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nx-fOo: a\r\nX-foO: b\r\n\r\n');
    expect(pyre).toBe(node);
  });

  test('strictContentLength: a write past the length and an end short of it throw node\'s error', async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const errors: string[] = [];
      const server = make((_req, res) => {
        res.strictContentLength = true;
        res.setHeader('Content-Length', 5);
        res.write('he');
        for (const attempt of [() => res.write('llo!'), () => res.end('l')]) {
          try {
            attempt();
          } catch (err) {
            errors.push(`${(err as NodeJS.ErrnoException).code}: ${(err as Error).message}`);
          }
        }
        res.end('llo');
      });
      const port = await listen(server);
      const text = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await closeServer(server);
      return { errors, text };
    });
    expect(node.errors).toHaveLength(2);
    expect(pyre).toEqual(node);
  });

  test.each<[string, (res: http.ServerResponse) => void]>([
    ['Connection, Transfer-Encoding and Content-Length removed: close-delimited, no Connection field', (res) => {
      res.removeHeader('connection');
      res.removeHeader('transfer-encoding');
      res.removeHeader('content-length');
      res.removeHeader('date');
      res.setHeader('date', 'coffee o clock');
    }],
    ['Content-Length removed: chunked', (res) => res.removeHeader('content-length')],
    ['Transfer-Encoding removed, the length known: Content-Length', (res) => res.removeHeader('transfer-encoding')],
    ['Transfer-Encoding removed before the head: close-delimited', (res) => {
      res.removeHeader('transfer-encoding');
      res.writeHead(200);
    }],
  ])('removeHeader: %s, the socket ended as on node', async (_name, prepare) => {
    const [node, pyre] = await onBoth(async (make) => {
      let ended: unknown;
      const server = make((_req, res) => {
        prepare(res);
        const { socket } = res;
        res.on('finish', () => {
          ended = socket?.writableEnded;
        });
        res.end('beep boop\n');
      });
      const port = await listen(server);
      const texts = [
        await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 300),
        await rawExchange(port, 'GET / HTTP/1.0\r\n\r\n', 300),
      ];
      await closeServer(server);
      return { texts, ended };
    });
    expect(pyre).toEqual(node);
  });

  test('res._send() sends the head, then its bytes as they are', async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const server = make((_req, res) => {
        const send = (res as unknown as { _send(data: string): boolean })._send.bind(res);
        res.sendDate = false;
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('Hello, ');
        send('');
        res.write('world!');
        send('');
        res.end();
      });
      const port = await listen(server);
      const texts = [
        await rawExchange(port, 'GET / HTTP/1.0\r\n\r\n'),
        await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      ];
      await closeServer(server);
      return texts;
    });
    expect(node[0]).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nHello, world!');
    expect(pyre).toEqual(node);
  });
});

describe('node\'s own parts', () => {
  test('a stream handed over with emit(\'connection\') is parsed with the server\'s insecureHTTPParser', async () => {
    for (const make of [
      (listener: http.RequestListener) => http.createServer({ insecureHTTPParser: true }, listener),
      (listener: http.RequestListener) => createPyreServer({ insecureHTTPParser: true }, listener) as unknown as http.Server,
    ]) {
      const clientErrors: string[] = [];
      const server = make((req, res) => res.end(req.headers.hello));
      server.on('clientError', (err: NodeJS.ErrnoException) => clientErrors.push(String(err.code)));
      const [client, serverSide] = duplexPair();
      server.emit('connection', serverSide);
      let text = '';
      client.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
      });
      client.write('GET / HTTP/1.1\r\nHost: x\r\nHello: foo\x08foo\r\nConnection: close\r\n\r\n');
      await new Promise((resolve) => client.once('end', resolve));
      expect(clientErrors).toEqual([]);
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nfoo\x08foo$/);
    }
  });

  test('an upgrade socket has net.Socket\'s own \'end\' listener and no other', async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const server = make();
      const counts = new Promise<number[]>((resolve) => {
        server.on('upgrade', (_req, socket: import('node:net').Socket) => {
          resolve(['end', 'data', 'close', 'error', 'drain', 'timeout'].map((event) => socket.listenerCount(event)));
          socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        });
      });
      const port = await listen(server);
      await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: test\r\n\r\n');
      await closeServer(server);
      return counts;
    });
    expect(node).toEqual([1, 0, 0, 0, 0, 0]);
    expect(pyre).toEqual(node);
  });
});
