// Runs the same app on node:http and on Pyre side by side and replays scripted requests against
// both: status, headers (less Date) and body bytes must match.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createPyreServer } from '../../compat/server';

export type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface ScriptedRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

export interface Reply {
  status: number;
  /** Raw header pairs in received order, names lowercased, Date removed. */
  headers: [string, string][];
  body: Buffer;
}

/** What both servers offer: node's http.Server or Pyre's Server. */
export interface ServerLike {
  listen(port: number, host: string, callback: () => void): unknown;
  address(): AddressInfo | string | null;
  once(event: 'error', listener: (err: Error) => void): unknown;
  close(callback?: (err?: Error) => void): unknown;
  closeAllConnections(): void;
}

export type CreateServer = (listener: Listener) => ServerLike;

export const createNodeServer: CreateServer = (listener) => http.createServer(listener);
export const createPyre: CreateServer = (listener) => createPyreServer(listener);

/** One running side: where it listens and how to stop it. */
export interface Side {
  port: number;
  close(): Promise<void>;
}

export interface Pair {
  node: number;
  pyre: number;
  close(): Promise<void>;
}

export function listen(server: ServerLike): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export function close(server: ServerLike): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Starts the same app twice, once per server kind, with `start(createServer)`. */
export async function startSides(start: (createServer: CreateServer) => Promise<Side>): Promise<Pair> {
  const [node, pyre] = await Promise.all([start(createNodeServer), start(createPyre)]);
  return { node: node.port, pyre: pyre.port, close: async () => { await Promise.all([node.close(), pyre.close()]); } };
}

/** Starts `makeListener()` twice: once on node:http, once on Pyre. */
export function startPair(makeListener: () => Listener): Promise<Pair> {
  return startSides(async (createServer) => {
    const server = createServer(makeListener());
    return { port: await listen(server), close: () => close(server) };
  });
}

export function send(port: number, request: ScriptedRequest): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: request.method ?? 'GET', path: request.path, headers: request.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = res.rawHeaders[i].toLowerCase();
            if (name !== 'date') headers.push([name, res.rawHeaders[i + 1]]);
          }
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to ${request.method ?? 'GET'} ${request.path} within 5 s`)));
    req.end(request.body);
  });
}

/** Sends `request` to both sides, asserts they answered alike, and returns Pyre's reply. */
export async function expectSame(pair: Pair, request: ScriptedRequest, normalize: (reply: Reply) => Reply = (r) => r): Promise<Reply> {
  const [fromNode, fromPyre] = await Promise.all([send(pair.node, request), send(pair.pyre, request)]);
  const label = `${request.method ?? 'GET'} ${request.path}`;
  const a = normalize(fromNode);
  const b = normalize(fromPyre);
  expect({ label, status: b.status, headers: b.headers }).toEqual({ label, status: a.status, headers: a.headers });
  expect(b.body.equals(a.body) ? 'same body' : `bodies differ:\nnode: ${a.body.toString('latin1').slice(0, 300)}\npyre: ${b.body.toString('latin1').slice(0, 300)}`).toBe('same body');
  return fromPyre;
}
