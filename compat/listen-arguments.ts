// node's server.listen() accepts many argument shapes; this turns them into one.
import type { ListenOptions } from '../src/engine/server';

export interface NodeListenOptions {
  port?: number | string;
  host?: string;
  backlog?: number;
  exclusive?: boolean;
  ipv6Only?: boolean;
  reusePort?: boolean;
  path?: string;
}

export interface ListenCall {
  options: ListenOptions & { exclusive: boolean };
  callback: (() => void) | undefined;
}

function toPort(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  throw Object.assign(new TypeError(`The "port" argument must be a number or a numeric string. Received ${JSON.stringify(value)}`), { code: 'ERR_SOCKET_BAD_PORT' });
}

/** Node's name for the loopback is resolved here: the engine binds addresses, not names. */
function toHost(host: string | undefined): string | undefined {
  return host === 'localhost' ? '127.0.0.1' : host;
}

function unsupported(what: string): Error {
  return Object.assign(new Error(`pyre: listen() on ${what} is not supported; give a TCP port`), { code: 'ERR_PYRE_UNSUPPORTED' });
}

export function parseListenArguments(args: readonly unknown[]): ListenCall {
  const rest = [...args];
  const callback = typeof rest[rest.length - 1] === 'function' ? (rest.pop() as () => void) : undefined;
  const first = rest[0];
  if (first !== null && typeof first === 'object') {
    const given = first as NodeListenOptions;
    if (given.path !== undefined) throw unsupported('a unix socket or pipe');
    if ('_handle' in given || 'fd' in given) throw unsupported('a handle or file descriptor');
    return {
      options: {
        port: given.port === undefined ? 0 : toPort(given.port),
        host: toHost(given.host),
        backlog: given.backlog,
        ipv6Only: given.ipv6Only,
        reusePort: given.reusePort,
        exclusive: given.exclusive ?? false,
      },
      callback,
    };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) throw unsupported('a unix socket or pipe');
  const port = first === undefined || first === null ? 0 : toPort(first);
  let host: string | undefined;
  let backlog: number | undefined;
  if (typeof rest[1] === 'string') {
    host = rest[1];
    if (typeof rest[2] === 'number') backlog = rest[2];
  } else if (typeof rest[1] === 'number') {
    backlog = rest[1];
  }
  return { options: { port, host: toHost(host), backlog, exclusive: false }, callback };
}
