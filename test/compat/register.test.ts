// pyre-http/register with an unmodified Express app in its own process (register changes node:http
// for the whole process), and Express on Pyre's createServer when Express was required first.
import { type ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import express from 'express';
import { createServer } from '../../compat/server';
import { PyreIncomingMessage } from '../../compat/request';
import { PyreServerResponse } from '../../compat/response';

const ROOT = path.resolve(__dirname, '../..');

interface Started {
  port: number;
  checks: Record<string, unknown>;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, method: string, urlPath: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('node -r pyre-http/register app.js with an unmodified Express app', () => {
  let child: ChildProcess;
  let started: Started;

  beforeAll(async () => {
    child = spawn(process.execPath, [
      '-r', path.join(ROOT, 'bench/lib/ts-hook.js'),
      '-r', path.join(ROOT, 'src/register.ts'),
      path.join(__dirname, 'fixtures/register-express.js'),
    ], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    started = await new Promise<Started>((resolve, reject) => {
      child.once('message', (message) => resolve(message as Started));
      child.once('exit', (code) => reject(new Error(`the app exited (${code}) before listening`)));
    });
  }, 20_000);
  afterAll(() => {
    child.kill();
  });

  test('Pyre serves it: real node objects by instanceof, not node sockets', async () => {
    const answer = await request(started.port, 'GET', '/');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('Hello from Express');
    expect(answer.headers['x-socket']).toBe('pyre');
    expect(answer.headers['x-instanceof']).toBe('true');
  });

  test("Express's prototypes are built on Pyre's, and req/res keep fast properties after Express's swap", async () => {
    expect(started.checks.expressOnPyre).toBe(true);
    const answer = await request(started.port, 'GET', '/');
    expect(answer.headers['x-fast']).toBe('true');
  });

  test('request bodies reach express.json', async () => {
    const answer = await request(started.port, 'POST', '/echo', JSON.stringify({ a: [1, 2] }));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ got: { a: [1, 2] }, complete: true });
  });

  test("code building on node's exports itself (light-my-request) still gets node's behaviour", () => {
    expect(started.checks.injected).toBe('injected /x');
    expect(started.checks.nodeObjectsAreInstances).toBe(true);
  });
});

describe('Express required before Pyre, served by createServer', () => {
  test("its prototypes are re-parented onto Pyre's; Express's swap changes nothing, so V8 keeps one fast hidden class", async () => {
    v8.setFlagsFromString('--allow-natives-syntax');
    const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;
    const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
    const seen: { request: boolean; response: boolean; fast: boolean }[] = [];
    const handled: [object, object][] = [];
    const app = express();
    app.get('/', (req, res) => {
      seen.push({
        request: req instanceof PyreIncomingMessage && req instanceof http.IncomingMessage,
        response: res instanceof PyreServerResponse && res instanceof http.ServerResponse,
        fast: hasFastProperties(req) && hasFastProperties(res),
      });
      res.send('ok');
      handled.push([req, res]);
    });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      for (let i = 0; i < 10; i++) expect((await request(port, 'GET', '/')).body).toBe('ok');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(seen).toEqual(Array(10).fill({ request: true, response: true, fast: true }));
    // Once V8 has settled the object layout, every request and response shares one hidden class.
    const [[req8, res8], [req9, res9]] = handled.slice(-2);
    expect([haveSameMap(req8, req9), haveSameMap(res8, res9)]).toEqual([true, true]);
  });
});
