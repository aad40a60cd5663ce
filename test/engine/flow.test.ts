// Flow control both ways: response backpressure (write() false, then ondrain) and request-body
// backpressure (pause() stops reading the socket).
import * as net from 'node:net';
import type { Exchange } from '../../src/engine/exchange';
import { delay, eventually, RawClient, startServer, stopAll } from './helpers';

afterEach(stopAll);

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

test('a large streamed response to a client that does not read: write() returns false, ondrain follows', async () => {
  const total = 32 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const events: string[] = [];
  let written = 0;
  const { port } = startServer((ex) => {
    ex.writeHead(200, { 'content-type': 'application/octet-stream' }, total);
    const pump = (): void => {
      while (written < total) {
        written += chunk.length;
        if (!ex.write(chunk)) {
          events.push('full');
          ex.ondrain = () => {
            events.push('drain');
            pump();
          };
          return;
        }
      }
      ex.end();
      events.push('end');
    };
    pump();
  }, { highWaterMark: 64 * 1024 });

  const socket = await connect(port);
  socket.pause();
  socket.write('GET /big HTTP/1.1\r\nHost: t\r\n\r\n');
  await eventually(() => events.includes('full'), 'write() to return false');
  const writtenWhenFull = written;
  await delay(200);
  // Nobody reads: no drain, no further writes.
  expect(events).toEqual(['full']);
  expect(written).toBe(writtenWhenFull);
  expect(writtenWhenFull).toBeLessThan(total);

  let received = 0;
  let head = '';
  socket.on('data', (data: Buffer) => {
    if (head === '') head = data.subarray(0, data.indexOf('\r\n\r\n') + 4).toString('latin1');
    received += data.length;
  });
  socket.resume();
  await eventually(() => events.includes('end') && received >= head.length + total, 'the whole body', 20000);
  expect(events.filter((e) => e === 'drain').length).toBeGreaterThanOrEqual(1);
  expect(events.filter((e) => e === 'drain').length).toBe(events.filter((e) => e === 'full').length);
  expect(received).toBe(head.length + total);
  expect(head).toContain(`Content-Length: ${total}\r\n`);
  socket.destroy();
});

test('a paused request body stops reading the socket until resume()', async () => {
  const total = 16 * 1024 * 1024;
  let exchange: Exchange | undefined;
  let received = 0;
  const { port } = startServer((ex) => {
    exchange = ex;
    ex.ondata = (data) => {
      if (received === 0) ex.pause();
      received += data.length;
    };
    ex.onend = () => ex.respond(200, `got ${received}`);
  });

  const socket = await connect(port);
  let reply = '';
  socket.on('data', (data: Buffer) => {
    reply += data.toString('latin1');
  });
  socket.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${total}\r\n\r\n`);
  socket.write(Buffer.alloc(total, 'b'));
  await eventually(() => received > 0, 'the first body bytes');
  await delay(200);
  const whilePaused = received;
  await delay(200);
  expect(received).toBe(whilePaused);
  expect(received).toBeLessThan(total);
  // The rest sits in the kernel's buffers and the client's own.
  expect(socket.writableLength).toBeGreaterThan(0);

  exchange?.resume();
  await eventually(() => reply.endsWith(`got ${total}`), 'the response', 20000);
  expect(received).toBe(total);
  socket.destroy();
});

test('a body nobody listens to yet is held (reading pauses) and handed over whole later', async () => {
  const total = 8 * 1024 * 1024;
  const { port } = startServer((ex) => {
    setTimeout(() => {
      void ex.body().then((body) => ex.respond(200, `got ${body.length} ${body.every((b) => b === 0x62)}`));
    }, 300);
  }, { highWaterMark: 64 * 1024 });
  const socket = await connect(port);
  let reply = '';
  socket.on('data', (data: Buffer) => {
    reply += data.toString('latin1');
  });
  socket.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${total}\r\n\r\n`);
  socket.write(Buffer.alloc(total, 'b'));
  await delay(200);
  // Before anyone listens, the engine has stopped reading: the client cannot send it all.
  expect(socket.writableLength).toBeGreaterThan(0);
  await eventually(() => reply.endsWith(`got ${total} true`), 'the response', 20000);
  socket.destroy();
});

test('large bodies, which go to the socket as they are given, keep the order of pipelined responses', async () => {
  const slow = Buffer.alloc(1 << 20, 'a');
  const fast = Buffer.alloc(2 << 20, 'b');
  const pieces = [Buffer.alloc(300 * 1024, 'c'), Buffer.alloc(20 * 1024, 'd'), Buffer.alloc(100, 'e')];
  const { port } = startServer((ex) => {
    if (ex.url === '/slow') {
      setTimeout(() => ex.respond(200, slow), 30);
    } else if (ex.url === '/fast') {
      ex.respond(200, fast);
    } else {
      ex.writeHead(200);
      for (const piece of pieces) ex.write(piece);
      ex.end();
    }
  });
  const client = await RawClient.connect(port);
  client.write('GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /fast HTTP/1.1\r\nHost: t\r\n\r\nGET /chunked HTTP/1.1\r\nHost: t\r\n\r\n');
  const [first, second, third] = await client.responses(3, 10000);
  expect(first.body.equals(slow)).toBe(true);
  expect(second.body.equals(fast)).toBe(true);
  expect(third.headers['transfer-encoding']).toBe('chunked');
  expect(third.body.equals(Buffer.concat(pieces))).toBe(true);
  client.destroy();
});
