// `Expect` on node:http beside Pyre, byte for byte (Date removed): 100-continue answered at once
// and the connection kept, 'checkContinue', 'checkExpectation', and node's bare 417.
import * as http from 'node:http';
import { closeServer, connectRaw, delay, listen, type Make, onBoth } from './sides';

type Setup = (server: http.Server) => void;

/** A handler that answers after reading the body (/read) or without looking at it (/ignore). */
const answer: http.RequestListener = (req, res) => {
  if (req.url === '/read') {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => res.end(`read ${body}`));
  } else {
    res.end('ignored');
  }
};

/**
 * Sends a POST with `expect`, its body once the server had time to answer the head, then a GET on
 * the same connection; returns every byte the client received, Date lines removed.
 */
async function exchange(make: Make, setup: Setup, path: string, expect: string): Promise<string> {
  const server = make(answer);
  setup(server);
  const port = await listen(server);
  const { socket, text } = await connectRaw(port);
  socket.write(`POST ${path} HTTP/1.1\r\nHost: t\r\nExpect: ${expect}\r\nContent-Length: 4\r\n\r\n`);
  await delay(40);
  socket.write('body');
  await delay(40);
  socket.write('GET /read HTTP/1.1\r\nHost: t\r\n\r\n');
  await delay(60);
  socket.destroy();
  await closeServer(server);
  return text().replace(/\r\nDate: [^\r]*/g, '');
}

const KEPT = 'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 5\r\n\r\nread ';

describe('Expect: 100-continue', () => {
  const none: Setup = () => undefined;

  test('without a checkContinue listener: 100 Continue at once, the answer keeps the connection', async () => {
    const [node, pyre] = await onBoth((make) => exchange(make, none, '/read', '100-continue'));
    expect(pyre).toBe(node);
    expect(node).toBe(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 9\r\n\r\nread body${KEPT}`);
  });

  test('a handler that never reads the body: the same, the body skipped', async () => {
    const [node, pyre] = await onBoth((make) => exchange(make, none, '/ignore', '100-continue'));
    expect(pyre).toBe(node);
    expect(node).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\nConnection: keep-alive\r\n.*ignoredHTTP\/1\.1 200 OK/s);
  });

  test("'checkContinue' decides: writeContinue() then read, or refuse without it (the connection then closes)", async () => {
    const accept: Setup = (server) => server.on('checkContinue', (req, res) => {
      res.writeContinue();
      answer(req, res);
    });
    const refuse: Setup = (server) => server.on('checkContinue', (_req, res) => {
      res.writeHead(403);
      res.end('no');
    });
    const [nodeAccepted, pyreAccepted] = await onBoth((make) => exchange(make, accept, '/read', '100-continue'));
    expect(pyreAccepted).toBe(nodeAccepted);
    expect(nodeAccepted).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n.*read body.*read $/s);
    const [nodeRefused, pyreRefused] = await onBoth((make) => exchange(make, refuse, '/read', '100-continue'));
    expect(pyreRefused).toBe(nodeRefused);
    expect(nodeRefused).toBe('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n');
  });
});

describe('other expectations', () => {
  test("without a 'checkExpectation' listener: node's bare 417, the connection kept", async () => {
    const [node, pyre] = await onBoth((make) => exchange(make, () => undefined, '/read', 'x-custom'));
    expect(pyre).toBe(node);
    expect(node).toBe(`HTTP/1.1 417 Expectation Failed\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${KEPT}`);
  });

  test("'checkExpectation' answers the request itself", async () => {
    const check: Setup = (server) => server.on('checkExpectation', (req, res) => res.end(`expected ${req.headers.expect}`));
    const [node, pyre] = await onBoth((make) => exchange(make, check, '/read', 'x-custom'));
    expect(pyre).toBe(node);
    expect(node).toMatch(/^HTTP\/1\.1 200 OK\r\n.*expected x-customHTTP\/1\.1 200 OK/s);
  });
});
