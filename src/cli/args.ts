// `pyre serve` arguments: parsed and checked before anything starts, each mistake one line.

export type LogFormat = 'common' | 'json';

export interface ServeOptions {
  entry: string;
  port: number;
  host: string;
  /** The host was given (--host): passed to app scripts as HOST. */
  hostGiven: boolean;
  /** A unix domain socket to listen on instead of --host/--port. */
  socket: string | undefined;
  /** undefined: serve in this process, no primary. */
  workers: number | 'auto' | undefined;
  gracefulTimeoutSeconds: number;
  /** undefined: off; '-': standard output; else a file appended to. */
  accessLog: string | undefined;
  accessLogFormat: LogFormat;
  maxRequests: number | undefined;
  /** Run the entry as a script that listens by itself, whatever it exports. */
  register: boolean;
  /** ms an idle keep-alive connection stays open, for the servers pyre makes; undefined: the default. */
  keepAliveTimeoutMs: number | undefined;
  watch: boolean;
}

export class UsageError extends Error {}

export const USAGE = `usage: pyre serve <entry> [options]

  <entry>                  an app script that listens by itself, a module exporting setup(app)
                           or a framework App, or one exporting a (req, res) handler
  --port N                 default: $PORT, else 3000 (0: any free port)
  --host H                 default: :: (every IPv4 and IPv6 address)
  --socket PATH            listen on a unix domain socket instead (behind nginx on the host)
  --workers N|auto         fork N workers sharing the port (auto: the CPUs this process may
                           use); default: serve in this process
  --graceful-timeout S     seconds to finish in-flight requests on SIGTERM/SIGINT (default 30)
  --access-log [file]      one line per request, to the file or standard output
  --access-log-format F    common (default) or json
  --max-requests N         replace a worker after it has read N requests (implies --workers 1)
  --register               run the entry as a script under pyre-http/register, whatever it exports
  --keep-alive-timeout S   idle keep-alive connections close after S seconds (default 5); for
                           handler and setup(app) entries (an App or script sets its own)
  --watch                  restart on file changes (development; one process)

signals: SIGTERM/SIGINT drain and exit (a second SIGINT exits at once); SIGHUP replaces the
workers one by one with no dropped request (in one process: reopens the access log file).`;

function count(flag: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (text === undefined || text.startsWith('-') || !Number.isInteger(value) || value < min) {
    throw new UsageError(`${flag} needs a whole number >= ${min}${text === undefined ? '' : `, got ${JSON.stringify(text)}`}`);
  }
  return value;
}

function seconds(flag: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`${flag} needs a number of seconds >= 0${text === undefined ? '' : `, got ${JSON.stringify(text)}`}`);
  }
  return value;
}

/** The arguments after `serve`. */
export function parseServeArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeOptions {
  const options: ServeOptions = {
    entry: '',
    port: env.PORT !== undefined && /^\d+$/.test(env.PORT) ? Number(env.PORT) : 3000,
    host: '::',
    hostGiven: false,
    socket: undefined,
    workers: undefined,
    gracefulTimeoutSeconds: 30,
    accessLog: undefined,
    accessLogFormat: 'common',
    maxRequests: undefined,
    register: false,
    keepAliveTimeoutMs: undefined,
    watch: false,
  };
  const rest = [...args];
  while (rest.length > 0) {
    const arg = rest.shift() as string;
    // --flag=value is --flag value.
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const value = (): string | undefined => inline ?? rest.shift();
    switch (flag) {
      case '--port': {
        const port = count('--port', value(), 0);
        if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
        options.port = port;
        break;
      }
      case '--host': {
        const host = value();
        if (host === undefined || host === '' || host.startsWith('--')) throw new UsageError('--host needs an address or name');
        options.host = host === 'localhost' ? '127.0.0.1' : host;
        options.hostGiven = true;
        break;
      }
      case '--socket': {
        const socket = value();
        if (socket === undefined || socket === '' || socket.startsWith('--')) throw new UsageError('--socket needs a path');
        options.socket = socket;
        break;
      }
      case '--workers': {
        const text = value();
        options.workers = text === 'auto' ? 'auto' : count('--workers', text, 1);
        break;
      }
      case '--graceful-timeout':
        options.gracefulTimeoutSeconds = seconds('--graceful-timeout', value());
        break;
      case '--access-log': {
        // The file is optional: a next argument that is a flag, or the entry, is not it.
        const next = inline ?? (rest[0] !== undefined && !rest[0].startsWith('--') && options.entry !== '' ? rest.shift() : undefined);
        options.accessLog = next ?? '-';
        break;
      }
      case '--access-log-format': {
        const format = value();
        if (format !== 'common' && format !== 'json') throw new UsageError(`--access-log-format is common or json${format === undefined ? '' : `, got ${JSON.stringify(format)}`}`);
        options.accessLogFormat = format;
        break;
      }
      case '--max-requests':
        options.maxRequests = count('--max-requests', value(), 1);
        break;
      case '--register':
        options.register = true;
        break;
      case '--keep-alive-timeout':
        options.keepAliveTimeoutMs = Math.round(seconds('--keep-alive-timeout', value()) * 1000);
        break;
      case '--watch':
        options.watch = true;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
        if (options.entry !== '') throw new UsageError(`one entry only (got ${options.entry} and ${arg})`);
        options.entry = arg;
    }
  }
  if (options.entry === '') throw new UsageError('which app? give the entry: pyre serve <entry>');
  if (options.maxRequests !== undefined && options.workers === undefined) options.workers = 1;
  return options;
}

/** The arguments that give `options` back: what a re-run (--watch) is started with. */
export function serveArgs(options: ServeOptions): string[] {
  const args = [options.entry, '--port', String(options.port), '--graceful-timeout', String(options.gracefulTimeoutSeconds)];
  if (options.hostGiven) args.push('--host', options.host);
  if (options.socket !== undefined) args.push('--socket', options.socket);
  if (options.workers !== undefined) args.push('--workers', String(options.workers));
  if (options.accessLog !== undefined) args.push(`--access-log=${options.accessLog}`, '--access-log-format', options.accessLogFormat);
  if (options.maxRequests !== undefined) args.push('--max-requests', String(options.maxRequests));
  if (options.register) args.push('--register');
  if (options.keepAliveTimeoutMs !== undefined) args.push('--keep-alive-timeout', String(options.keepAliveTimeoutMs / 1000));
  return args;
}
