// Serving a socket this process was handed already listening: listen({ fd }), and the socket a
// supervisor (`pyre serve`) describes in PYRE_LISTEN_SOCKET, which the first listen on its port
// takes instead of binding a socket of its own.
import * as fs from 'node:fs';
import { binding } from '../../src/engine/binding';
import { INHERITED_LISTENER_ENV } from '../../src/engine/inherited-listener';
import { NativeServer } from '../../src/engine/server';
import { echoTarget, getOnce, stopServer } from './helpers';

function refused(port: number): Promise<boolean> {
  return getOnce(port).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
}

test('listen({ fd }) serves a listening socket made elsewhere; close() closes it', async () => {
  const socket = binding.listenSocket('127.0.0.1', 0, 64, false, false);
  const server = new NativeServer(echoTarget);
  expect(server.listen({ fd: socket.fd })).toEqual({ address: '127.0.0.1', family: 'IPv4', port: socket.port });
  expect((await getOnce(socket.port, '/fd')).body.toString()).toBe('GET /fd');
  await stopServer(server);
  expect(await refused(socket.port)).toBe(true);
  expect(() => fs.fstatSync(socket.fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
});

test('listen({ fd }) on a descriptor that is not a listening socket fails as node would', () => {
  const file = fs.openSync(__filename, 'r');
  try {
    expect(() => new NativeServer(echoTarget).listen({ fd: file })).toThrow(expect.objectContaining({ code: 'ENOTSOCK', syscall: 'getsockopt' }));
  } finally {
    fs.closeSync(file);
  }
  expect(() => new NativeServer(echoTarget).listen({ fd: 1_000_000 })).toThrow(expect.objectContaining({ code: 'EBADF' }));
});

test('the inherited socket goes to the first listen on its port and host, once', async () => {
  const socket = binding.listenSocket('127.0.0.1', 0, 64, false, false);
  process.env[INHERITED_LISTENER_ENV] = JSON.stringify({ fd: socket.fd, host: '127.0.0.1', port: socket.port });
  const servers: NativeServer[] = [];
  try {
    // Another host on the same port is not the inherited socket.
    const other = new NativeServer(echoTarget);
    servers.push(other);
    expect(() => other.listen({ port: socket.port, host: '::1' })).not.toThrow();
    const first = new NativeServer(echoTarget);
    servers.push(first);
    // The socket was bound without SO_REUSEPORT: a bind of its own would fail with EADDRINUSE.
    expect(first.listen({ port: socket.port, host: '127.0.0.1' }).port).toBe(socket.port);
    expect(process.env[INHERITED_LISTENER_ENV]).toBeUndefined();
    expect((await getOnce(socket.port, '/inherited')).body.toString()).toBe('GET /inherited');
    expect(() => new NativeServer(echoTarget).listen({ port: socket.port, host: '127.0.0.1' })).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
  } finally {
    delete process.env[INHERITED_LISTENER_ENV];
    await Promise.all(servers.map((server) => stopServer(server)));
  }
});

test('requestsRead() counts the requests every server has read', async () => {
  const before = binding.requestsRead();
  const socket = binding.listenSocket('127.0.0.1', 0, 64, false, false);
  const server = new NativeServer(echoTarget);
  server.listen({ fd: socket.fd });
  for (let i = 0; i < 3; i++) await getOnce(socket.port);
  expect(binding.requestsRead() - before).toBe(3);
  await stopServer(server);
});
