// A listening socket handed down by a supervisor (`pyre serve`'s primary binds one per worker
// and passes it to the worker it starts). The first server of this process to listen on its
// port serves that socket instead of binding one of its own, so the socket outlives the
// process: when a worker is replaced, connections waiting in the socket's accept queue go to
// its successor instead of being reset by the kernel, as they are when a listener closes.

/**
 * The environment variable that describes the socket: `{ "fd": 4, "host": "::", "port": 3000 }`
 * for TCP, `{ "fd": 4, "path": "/run/app.sock" }` for a unix domain socket.
 */
export const INHERITED_LISTENER_ENV = 'PYRE_LISTEN_SOCKET';

interface Inherited {
  fd: number;
  host?: string;
  port?: number;
  path?: string;
}

/** Where a listen() asks to listen: a TCP host (undefined: the default) and port, or a path. */
export type ListenTarget = { host: string | undefined; port: number } | { path: string };

const WILDCARDS = new Set(['::', '0.0.0.0']);

function inherited(): Inherited | undefined {
  const text = process.env[INHERITED_LISTENER_ENV];
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<Inherited>;
    const tcp = typeof parsed.host === 'string' && typeof parsed.port === 'number';
    if (typeof parsed.fd === 'number' && (tcp || typeof parsed.path === 'string')) return parsed as Inherited;
  } catch {
    // Not ours to judge: a malformed value means no socket.
  }
  return undefined;
}

function matches(socket: Inherited, target: ListenTarget): boolean {
  if ('path' in target) return target.path === socket.path;
  if (socket.host === undefined || target.port !== socket.port) return false;
  const { host } = target;
  return host === undefined || host === socket.host || (WILDCARDS.has(host) && WILDCARDS.has(socket.host));
}

/**
 * The descriptor of the inherited socket if a listen on `target` is for it; it is handed out
 * once, and processes started from here do not see it.
 */
export function takeInheritedListener(target: ListenTarget): number | undefined {
  const socket = inherited();
  if (socket === undefined || !matches(socket, target)) return undefined;
  delete process.env[INHERITED_LISTENER_ENV];
  return socket.fd;
}
