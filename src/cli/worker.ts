// A process that serves the entry: a worker under the primary, or the one process when there is
// no primary. It loads the entry under pyre-http/register, listens (on the socket its slot
// inherited, when the primary made one), and drains on request: every Pyre server of the
// process stops accepting, finishes what is in flight, and the process exits 0.
import cluster from 'node:cluster';
import { binding } from '../engine/binding';
import { INHERITED_LISTENER_ENV } from '../engine/inherited-listener';
import { type AddressInfo, openServers } from '../engine/server';
import { flushAccessLog, reopenAccessLog, startAccessLog } from './access-log';
import type { ServeOptions } from './args';
import { EntryError, loadEntry, serveEntry } from './entry';
import { type ToPrimary, type ToWorker, isMessage, listenFailure, say, urlOf } from './messages';
import { onShutdownSignals } from './signals';

/** What a worker is told by its primary (through the environment) or by main. */
export interface WorkerSettings {
  file: string;
  options: ServeOptions;
}

export const WORKER_SETTINGS_ENV = 'PYRE_SERVE_WORKER';

/** How often the request count is looked at for --max-requests. */
const RECYCLE_CHECK_MS = 200;

function send(message: ToPrimary, then?: () => void): void {
  if (process.send) process.send(message, undefined, {}, () => then?.());
  else then?.();
}

/** Requests of every server in flight now. */
function inFlight(): number {
  let count = 0;
  for (const server of openServers) count += server.requestsInFlight;
  return count;
}

/**
 * How long a drain lets a keep-alive connection answered just before it bring one more request:
 * a client on a busy machine can take well over close()'s 100 ms to send the request it is
 * about to send, and a shutdown has seconds to spare.
 */
const DRAIN_GRACE_MS = 1000;

/** Stops accepting everywhere; resolves once every connection is gone. */
async function drain(): Promise<void> {
  for (const server of openServers) {
    if (!server.listening) continue;
    server.closeGraceMs = DRAIN_GRACE_MS;
    server.shutDown();
  }
  while (openServers.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Closes every connection now; the number of requests that were still in flight. */
function cut(): number {
  const requests = inFlight();
  for (const server of openServers) server.closeAllConnections();
  return requests;
}

function exit(code: number): void {
  flushAccessLog();
  process.exit(code);
}

interface Started {
  address: AddressInfo | string;
  /** What kind of entry it is, for the start-up line. */
  how: string;
  /** It listens on the socket the primary made for this worker's slot. */
  inherited: boolean;
}

/** Loads and serves the entry; the address it listens on. Start-up failures exit the process. */
async function start(settings: WorkerSettings): Promise<Started> {
  const { file, options } = settings;
  // Until the app is up, an uncaught listen error (a script's server without an 'error'
  // listener, or an async listen() whose rejection nobody catches) is one line too.
  const failed = (err: unknown): void => {
    const line = err instanceof EntryError ? err.message : listenFailure(err, options.host, options.port, options.socket);
    if (line === undefined) {
      process.stderr.write(`pyre: ${file} failed to start:\n${(err as Error)?.stack ?? String(err)}\n`);
      exit(1);
      return;
    }
    if (cluster.isWorker) send({ pyre: 'failed', message: line }, () => exit(1));
    else {
      say(line);
      exit(1);
    }
  };
  process.on('uncaughtException', failed);
  process.on('unhandledRejection', failed);
  try {
    if (options.accessLog !== undefined) startAccessLog(options.accessLog, options.accessLogFormat);
    // Scripts read where to listen from the environment, as on a PaaS (node's listen() takes a
    // PORT that is a path as a unix socket's).
    process.env.PORT = options.socket ?? String(options.port);
    if (options.hostGiven && options.socket === undefined) process.env.HOST = options.host;
    require('../register');
    const inheritedBefore = process.env[INHERITED_LISTENER_ENV] !== undefined;
    const servable = await loadEntry(file, options.register, options.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeout: options.keepAliveTimeoutMs });
    const address = await serveEntry(servable, options.socket === undefined ? { port: options.port, host: options.host } : { path: options.socket });
    const inherited = inheritedBefore && process.env[INHERITED_LISTENER_ENV] === undefined;
    return { address, how: servable.kind === 'script' ? 'a script that listens by itself' : servable.how, inherited };
  } catch (err) {
    failed(err);
    // failed() exits; nothing to return to.
    return new Promise(() => {});
  } finally {
    process.off('uncaughtException', failed);
    process.off('unhandledRejection', failed);
  }
}

/** Under a primary: report, recycle at --max-requests, drain or cut when told. */
export async function runSupervisedWorker(settings: WorkerSettings): Promise<void> {
  let draining = false;
  const drainAndExit = (): void => {
    if (draining) return;
    draining = true;
    void drain().then(() => exit(0));
  };
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  process.once('SIGTERM', drainAndExit);
  process.on('message', (message: unknown) => {
    if (!isMessage<ToWorker>(message)) return;
    if (message.pyre === 'drain') drainAndExit();
    else if (message.pyre === 'cut') send({ pyre: 'cut', requests: cut() }, () => exit(1));
  });
  const { address, how, inherited } = await start(settings);
  send({ pyre: 'ready', address, inherited, how });
  const limit = settings.options.maxRequests;
  if (limit !== undefined) {
    const check = setInterval(() => {
      const requests = binding.requestsRead();
      if (requests < limit || draining) return;
      clearInterval(check);
      send({ pyre: 'recycle', requests });
    }, RECYCLE_CHECK_MS);
    check.unref();
  }
}

/** The one process, with no primary: it owns the signals and the graceful timeout itself. */
export async function runAlone(settings: WorkerSettings): Promise<void> {
  const { options } = settings;
  process.on('SIGHUP', () => {
    let reopened: string | undefined;
    try {
      reopened = reopenAccessLog();
    } catch (err) {
      say(`SIGHUP: cannot reopen the access log: ${(err as Error).message}; it goes on to the file it had`);
      return;
    }
    const log = reopened === undefined ? '' : `the access log is reopened (${reopened}); `;
    say(`SIGHUP: ${log}there are no workers to replace when serving in one process (start with --workers N to reload without downtime)`);
  });
  onShutdownSignals({
    drain(signal) {
      say(`${signal}: draining (${inFlight()} requests in flight, graceful timeout ${options.gracefulTimeoutSeconds} s)`);
      const timer = setTimeout(() => {
        const requests = cut();
        say(`graceful timeout (${options.gracefulTimeoutSeconds} s): cut ${requests} request${requests === 1 ? '' : 's'} still in flight`);
        exit(1);
      }, options.gracefulTimeoutSeconds * 1000);
      void drain().then(() => {
        clearTimeout(timer);
        say('stopped');
        exit(0);
      });
    },
    now() {
      say('SIGINT again: exiting now');
      exit(130);
    },
  });
  const { address, how } = await start(settings);
  say(`serving ${options.entry}, ${how}, at ${urlOf(address)}; pid ${process.pid}`);
}
