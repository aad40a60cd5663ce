// node's server.listen() accepts many argument shapes; this turns them into one.
import { inspect } from 'node:util';
import type { FdListenOptions, ListenOptions, UnixListenOptions } from '../src/engine/server';

export interface NodeListenOptions {
  port?: number | string;
  host?: string;
  backlog?: number;
  exclusive?: boolean;
  ipv6Only?: boolean;
  reusePort?: boolean;
  path?: string;
  fd?: number;
  readableAll?: boolean;
  writableAll?: boolean;
}

export interface ListenCall {
  options: ListenOptions | UnixListenOptions | FdListenOptions;
  callback: (() => void) | undefined;
}

function toPort(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  throw Object.assign(new TypeError(`The "port" argument must be a number or a numeric string. Received ${JSON.stringify(value)}`), { code: 'ERR_SOCKET_BAD_PORT' });
}

/** Node's rule: a string that does not read as a number >= 0 names a unix socket (or pipe). */
function isPipeName(value: unknown): value is string {
  return typeof value === 'string' && !(Number(value) >= 0);
}

/** Node's name for the loopback is resolved here: the engine binds addresses, not names. */
function toHost(host: string | undefined): string | undefined {
  return host === 'localhost' ? '127.0.0.1' : host;
}

function unsupported(what: string): Error {
  return Object.assign(new Error(`pyre: listen() on ${what} is not supported; give a TCP port, a unix socket path or { fd }`), { code: 'ERR_PYRE_UNSUPPORTED' });
}

export function parseListenArguments(args: readonly unknown[]): ListenCall {
  const rest = [...args];
  const callback = typeof rest[rest.length - 1] === 'function' ? (rest.pop() as () => void) : undefined;
  const first = rest[0];
  if (first !== null && typeof first === 'object') {
    const given = first as NodeListenOptions;
    if ('_handle' in given) throw unsupported('a handle object');
    // node's listen(handle) with a descriptor this process was handed, already listening.
    if (given.fd !== undefined) return { options: { fd: given.fd }, callback };
    // As in node, a port wins over a path.
    if (given.port === undefined && given.path !== undefined) {
      if (!isPipeName(given.path)) {
        throw Object.assign(new TypeError(`The argument 'options' is invalid. Received ${inspect(given)}`), { code: 'ERR_INVALID_ARG_VALUE' });
      }
      const { path, backlog, readableAll, writableAll } = given;
      return { options: { path, backlog, readableAll, writableAll }, callback };
    }
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
  if (isPipeName(first)) {
    return { options: { path: first, backlog: typeof rest[1] === 'number' ? rest[1] : undefined }, callback };
  }
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
