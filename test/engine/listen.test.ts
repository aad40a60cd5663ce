// Listening, addresses and shutdown of the fast-path server.
import * as net from 'node:net';
import { type AddressInfo, NativeServer } from '../../src/engine/server';
import { RawClient, echoTarget, eventually, getOnce, startServer, stopAll, stopServer } from './helpers';

afterEach(stopAll);

describe('listen', () => {
  test('port 0 on 127.0.0.1: address() reports the bound port and the server answers', async () => {
    const { server, port } = startServer(echoTarget);
    expect(port).toBeGreaterThan(0);
    expect(server.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port });
    const response = await getOnce(port, '/hello?x=1');
    expect(response.statusLine).toBe('HTTP/1.1 200 OK');
    expect(response.body.toString()).toBe('GET /hello?x=1');
  });

  test('IPv6 ::1', async () => {
    const { server, port } = startServer(echoTarget, {}, { host: '::1' });
    expect(server.address()).toEqual({ address: '::1', family: 'IPv6', port });
    expect((await getOnce(port, '/six', '::1')).body.toString()).toBe('GET /six');
  });

  test('the default host "::" is dual-stack: reachable on 127.0.0.1 and ::1', async () => {
    const server = new NativeServer(echoTarget);
    const { port, family } = server.listen({ port: 0 });
    try {
      expect(family).toBe('IPv6');
      expect((await getOnce(port, '/v4', '127.0.0.1')).body.toString()).toBe('GET /v4');
      expect((await getOnce(port, '/v6', '::1')).body.toString()).toBe('GET /v6');
    } finally {
      await stopServer(server);
    }
  });

  test('a host name ("localhost") resolves and binds', async () => {
    const { server, port } = startServer(echoTarget, {}, { host: 'localhost' });
    const address = server.address() as AddressInfo;
    expect(address.port).toBe(port);
    expect(['127.0.0.1', '::1']).toContain(address.address);
    expect((await getOnce(port, '/name', address.address)).status).toBe(200);
  });

  test("'listening' is emitted after listen()", async () => {
    const server = new NativeServer(echoTarget);
    const listening = new Promise<void>((resolve) => server.once('listening', resolve));
    server.listen({ host: '127.0.0.1', port: 0 });
    await listening;
    expect(server.listening).toBe(true);
    await stopServer(server);
  });

  test('EADDRINUSE is reported as node reports it', async () => {
    const { port } = startServer(echoTarget);
    const second = new NativeServer(echoTarget);
    let error: (Error & { code?: string; syscall?: string; port?: number; address?: string; errno?: number }) | undefined;
    try {
      second.listen({ host: '127.0.0.1', port });
    } catch (err) {
      error = err as typeof error;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error?.code).toBe('EADDRINUSE');
    expect(error?.syscall).toBe('listen');
    expect(error?.errno).toBe(-98);
    expect(error?.address).toBe('127.0.0.1');
    expect(error?.port).toBe(port);
    expect(error?.message).toBe(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
    expect(second.listening).toBe(false);
  });

  test('a node http server on the same port meets the same error', async () => {
    const { port } = startServer(echoTarget);
    const blocker = net.createServer();
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      blocker.once('error', resolve);
      blocker.listen(port, '127.0.0.1');
    });
    expect(error.code).toBe('EADDRINUSE');
  });

  test('listening twice throws ERR_SERVER_ALREADY_LISTEN', () => {
    const { server } = startServer(echoTarget);
    expect(() => server.listen({ port: 0 })).toThrow(expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }));
  });
});

describe('close()', () => {
  test('stops accepting: new connections are refused', async () => {
    const { server, port } = startServer(echoTarget);
    await stopServer(server);
    expect(server.address()).toBeNull();
    await expect(RawClient.connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test("the port is free once 'close' has fired", async () => {
    const { server, port } = startServer(echoTarget);
    await stopServer(server);
    const again = startServer(echoTarget, {}, { port });
    expect(again.port).toBe(port);
    expect((await getOnce(port)).status).toBe(200);
  });

  test('closes idle keep-alive connections and emits close', async () => {
    const { server, port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.responses(1);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await client.closedByServer();
    await closed;
    expect(server.connections).toBe(0);
  });

  test('lets an in-flight request finish (answered with Connection: close), then closes', async () => {
    let finish: (() => void) | undefined;
    const { server, port } = startServer((ex) => {
      finish = () => ex.respond(200, 'late');
    });
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await eventually(() => finish !== undefined, 'the handler');
    let closeFired = false;
    server.close(() => {
      closeFired = true;
    });
    expect(await client.stillOpenAfter(100)).toBe(true);
    expect(closeFired).toBe(false);
    finish?.();
    const [response] = await client.closedByServer();
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('late');
    expect(response.headers.connection).toBe('close');
    await eventually(() => closeFired, "'close'");
  });

  test('close() on a server that is not listening reports ERR_SERVER_NOT_RUNNING', async () => {
    const server = new NativeServer(echoTarget);
    const err = await new Promise<Error | undefined>((resolve) => server.close(resolve));
    expect(err).toMatchObject({ code: 'ERR_SERVER_NOT_RUNNING' });
  });

  test('a closed server can listen again', async () => {
    const { server } = startServer(echoTarget);
    await stopServer(server);
    const { port } = server.listen({ host: '127.0.0.1', port: 0 });
    expect((await getOnce(port)).status).toBe(200);
    await stopServer(server);
  });
});
