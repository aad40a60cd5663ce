// What the primary and its workers tell each other over cluster's IPC channel.
import type { AddressInfo } from '../engine/server';

export type ToPrimary =
  /** Listening; `inherited`: on the socket the primary made for this worker's slot. */
  | { pyre: 'ready'; address: AddressInfo | string; inherited: boolean; how: string }
  /** A start-up mistake (one line); the worker exits 1. */
  | { pyre: 'failed'; message: string }
  /** --max-requests reached: replace me. */
  | { pyre: 'recycle'; requests: number }
  /** Cut at the graceful timeout: this many requests were still in flight. */
  | { pyre: 'cut'; requests: number };

export type ToWorker =
  /** Stop accepting, finish what is in flight, exit 0. */
  | { pyre: 'drain' }
  /** Give up on what is left (answer with 'cut'), exit 1. */
  | { pyre: 'cut' };

export function isMessage<T extends { pyre: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { pyre?: unknown }).pyre === 'string';
}

/** A status line: `pyre: ...` on standard error (standard output is the access log's). */
export function say(line: string): void {
  process.stderr.write(`pyre: ${line}\n`);
}

/** An address as a URL a browser can open ('::' and '0.0.0.0' as localhost). */
export function urlOf(address: AddressInfo | string): string {
  if (typeof address === 'string') return `unix:${address}`;
  const host = address.address === '::' || address.address === '0.0.0.0' ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** An address as `host:port` for messages. */
export function where(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A listen error (node's, as the engine reports it) as one line; undefined for other errors.
 * `socket`: the unix socket's path when there is one (its errors have no port, or port -1).
 */
export function listenFailure(err: unknown, host: string, port: number, socket?: string): string | undefined {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.syscall !== 'listen' || typeof e.code !== 'string') return undefined;
  // "listen EADDRINUSE: address already in use :::3000" -> "address already in use"
  const reason = e.message.replace(/^listen \w+: /, '').replace(/ \S+$/, '');
  const place = socket ?? (e.port === undefined || e.port < 0 ? e.address ?? host : where(e.address ?? host, e.port));
  return `cannot listen on ${place}: ${reason} (${e.code})`;
}
