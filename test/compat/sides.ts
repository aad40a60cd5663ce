// The two servers a differential scenario runs on, and the helpers every such scenario uses.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer as createPyreServer } from '../../compat/server';

export type Make = (listener?: http.RequestListener) => http.Server;
export const SIDES: [string, Make][] = [
  ['node', (listener) => http.createServer(listener)],
  ['pyre', (listener) => createPyreServer(listener) as unknown as http.Server],
];

/** Runs `scenario` on node:http and on Pyre; returns what each observed, node's first. */
export async function onBoth<T>(scenario: (make: Make) => Promise<T>): Promise<[T, T]> {
  const results: T[] = [];
  for (const [side, make] of SIDES) {
    try {
      results.push(await scenario(make));
    } catch (err) {
      throw new Error(`${side}: ${(err as Error).message}`);
    }
  }
  return [results[0], results[1]];
}

export function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A client connection that keeps every byte it receives (Latin-1) and whether it has closed. */
export interface RawConnection {
  socket: net.Socket;
  text(): string;
  closed: Promise<void>;
}

export async function connectRaw(port: number): Promise<RawConnection> {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, text: () => received, closed };
}
