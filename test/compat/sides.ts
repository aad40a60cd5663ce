// The two servers a differential scenario runs on, and the helpers every such scenario uses.
import * as http from 'node:http';
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
