// The primary of `pyre serve --workers N`: it forks the workers (node's cluster), restarts those
// that die, replaces them one at a time on SIGHUP and at --max-requests, and drains them all
// on SIGTERM/SIGINT.
//
// Sockets: the primary binds one SO_REUSEPORT listening socket per worker slot and hands it to
// each worker it starts in that slot (an inherited descriptor, see src/engine/inherited-listener.ts).
// The kernel spreads new connections over the slots' sockets as it does over sockets the
// workers would bind themselves, but a socket outlives the worker that serves it: a listener
// that closes loses (resets) the connections waiting in its accept queue, so while a slot's
// worker is being replaced its socket stays open in the primary and its queue goes to the
// successor. Only at shutdown are the sockets closed.
import cluster, { type Worker } from 'node:cluster';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { binding } from '../engine/binding';
import { INHERITED_LISTENER_ENV } from '../engine/inherited-listener';
import { listenError } from '../engine/server';
import type { ServeOptions } from './args';
import { type ToPrimary, type ToWorker, isMessage, listenFailure, say, urlOf } from './messages';
import { onShutdownSignals } from './signals';
import { WORKER_SETTINGS_ENV, type WorkerSettings } from './worker';

/** A worker that dies within this long of starting counts towards a crash loop. */
const CRASH_WINDOW_MS = 10_000;
/** Consecutive quick deaths in one slot before the primary gives up. */
const MAX_QUICK_RESTARTS = 5;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;
/** How long a worker told to cut may take to answer before it is killed. */
const CUT_ANSWER_MS = 2000;
/** The descriptor a worker finds its slot's socket on (after stdin, stdout, stderr, IPC). */
const SLOT_FD = 4;

interface Slot {
  index: number;
  /** The slot's listening socket, held here; undefined once the app is known to listen elsewhere. */
  fd: number | undefined;
  current: Running | undefined;
  /** A successor being started (replacement or restart). */
  next: Running | undefined;
  quickDeaths: number;
}

interface Running {
  worker: Worker;
  number: number;
  slot: Slot;
  startedAt: number;
  ready: boolean;
  draining: boolean;
  /** Resolves true when it listens, false if it exits first. */
  listening: Promise<boolean>;
  onReady: (ok: boolean) => void;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describeExit(code: number | null, signal: string | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

export class Primary {
  private readonly slots: Slot[] = [];
  private readonly queue: Slot[] = [];
  private replacing = false;
  private shuttingDown = false;
  private everReady = false;
  private cutRequests = 0;
  private numbered = 0;
  private warnedOwnSocket = false;

  constructor(private readonly file: string, private readonly options: ServeOptions, private readonly count: number, private readonly countReason: string) {}

  /**
   * The slots' sockets: one SO_REUSEPORT socket each, or one unix domain socket they all share
   * (the kernel has no SO_REUSEPORT spreading for those). A failure is one line and exit 1.
   */
  private bindSlots(): void {
    const { host, socket } = this.options;
    let port = this.options.port;
    try {
      const shared = socket === undefined ? undefined : binding.listenUnixSocket(Buffer.from(socket), 511, false, false);
      for (let index = 0; index < this.count; index++) {
        let fd = shared;
        if (fd === undefined) {
          const bound = binding.listenSocket(host, port, 511, false, true);
          fd = bound.fd;
          port = bound.port;
        }
        this.slots.push({ index, fd, current: undefined, next: undefined, quickDeaths: 0 });
      }
    } catch (err) {
      const failure = socket === undefined ? listenError(err, host, port) : listenError(err, socket);
      say(listenFailure(failure, host, port, socket) ?? String(err));
      process.exit(1);
    }
    this.options.port = port;
  }

  /** Binds the slots' sockets, starts every worker. */
  start(): void {
    const { host } = this.options;
    this.bindSlots();
    const { port } = this.options;
    cluster.on('message', (worker, message: unknown) => this.onMessage(worker, message));
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    onShutdownSignals({ drain: (signal) => this.shutdown(signal), now: () => this.killNow() });
    process.on('SIGHUP', () => this.reload());
    for (const slot of this.slots) slot.current = this.fork(slot);
    void Promise.all(this.slots.map((slot) => slot.current?.listening)).then((ready) => {
      if (!ready.every(Boolean) || this.shuttingDown) return;
      const address = this.options.socket ?? ({ address: host, family: host.includes(':') ? 'IPv6' : 'IPv4', port } as const);
      say(`serving ${this.options.entry} at ${urlOf(address)} with ${plural(this.count, 'worker')} (${this.countReason}), primary pid ${process.pid}`);
    });
  }

  private fork(slot: Slot): Running {
    const settings: WorkerSettings = { file: this.file, options: this.options };
    const env: Record<string, string> = { [WORKER_SETTINGS_ENV]: JSON.stringify(settings) };
    const stdio: (string | number)[] = ['ignore', 'inherit', 'inherit', 'ipc'];
    if (slot.fd !== undefined) {
      stdio.push(slot.fd);
      const where = this.options.socket === undefined ? { host: this.options.host, port: this.options.port } : { path: this.options.socket };
      env[INHERITED_LISTENER_ENV] = JSON.stringify({ fd: SLOT_FD, ...where });
    }
    cluster.setupPrimary({ exec: path.join(__dirname, 'main.js'), args: [], stdio } as Parameters<typeof cluster.setupPrimary>[0]);
    const worker = cluster.fork(env);
    let onReady: (ok: boolean) => void = () => {};
    const listening = new Promise<boolean>((resolve) => (onReady = resolve));
    return { worker, number: ++this.numbered, slot, startedAt: Date.now(), ready: false, draining: false, listening, onReady };
  }

  private running(worker: Worker): Running | undefined {
    for (const slot of this.slots) {
      for (const run of [slot.current, slot.next]) if (run?.worker === worker) return run;
    }
    return this.draining.get(worker);
  }

  /** Workers told to drain, no longer any slot's. */
  private readonly draining = new Map<Worker, Running>();

  private name(run: Running): string {
    return `worker ${run.number} (pid ${run.worker.process.pid})`;
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (!isMessage<ToPrimary>(message)) return;
    const run = this.running(worker);
    if (run === undefined) return;
    switch (message.pyre) {
      case 'ready':
        run.ready = true;
        this.everReady = true;
        say(`${this.name(run)} listening on ${urlOf(message.address)}: ${message.how}`);
        if (!message.inherited && run.slot.fd !== undefined) this.appListensElsewhere(message.address);
        run.onReady(true);
        break;
      case 'failed':
        say(message.message);
        if (!this.everReady) this.giveUp();
        break;
      case 'recycle':
        if (run.slot.current === run && !run.draining) {
          say(`${this.name(run)} has read ${message.requests} requests (--max-requests ${this.options.maxRequests}): replacing it`);
          this.enqueue(run.slot);
        }
        break;
      case 'cut':
        if (this.shuttingDown) this.cutRequests += message.requests;
        else say(`${this.name(run)} did not finish within the graceful timeout: cut ${plural(message.requests, 'request')}`);
        break;
    }
  }

  /** A script that listens on its own socket: the slots' sockets would take connections no one accepts. */
  private appListensElsewhere(address: unknown): void {
    this.closeSlots();
    if (this.warnedOwnSocket) return;
    this.warnedOwnSocket = true;
    const asked = this.options.socket ?? `--port ${this.options.port}`;
    say(`the app listens on ${urlOf(address as string)} with a socket of its own, not on ${asked} (PORT): it is served, but while a worker is replaced connections may be refused`);
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const run = this.running(worker);
    if (run === undefined) return;
    this.draining.delete(worker);
    run.onReady(false);
    const slot = run.slot;
    if (slot.next === run) slot.next = undefined;
    if (slot.current === run) slot.current = undefined;
    if (this.shuttingDown) return this.exitWhenAllGone();
    if (run.draining) return;
    if (!run.ready && !this.everReady) {
      say(`${this.name(run)} ${describeExit(code, signal)} before listening: stopping`);
      return this.giveUp();
    }
    if (slot.current !== undefined || slot.next !== undefined) {
      // Its successor is already starting (a replacement under way).
      if (!run.ready) say(`${this.name(run)} ${describeExit(code, signal)} before listening`);
      return;
    }
    slot.quickDeaths = Date.now() - run.startedAt < CRASH_WINDOW_MS ? slot.quickDeaths + 1 : 1;
    if (slot.quickDeaths > MAX_QUICK_RESTARTS) {
      say(`${this.name(run)} ${describeExit(code, signal)}; the workers of slot ${slot.index + 1} died ${slot.quickDeaths} times in a row within ${CRASH_WINDOW_MS / 1000} s of starting: giving up`);
      return this.giveUp();
    }
    const delay = Math.min(FIRST_BACKOFF_MS * 2 ** (slot.quickDeaths - 1), MAX_BACKOFF_MS);
    say(`${this.name(run)} ${describeExit(code, signal)}; starting another in ${delay} ms`);
    setTimeout(() => {
      if (this.shuttingDown || slot.current !== undefined) return;
      slot.current = this.fork(slot);
    }, delay);
  }

  private enqueue(slot: Slot): void {
    if (this.shuttingDown || this.queue.includes(slot)) return;
    this.queue.push(slot);
    void this.replaceQueued();
  }

  /** SIGHUP: every worker replaced, one at a time. */
  private reload(): void {
    if (this.shuttingDown) return;
    say(`SIGHUP: replacing ${plural(this.slots.length, 'worker')} one at a time`);
    for (const slot of this.slots) this.enqueue(slot);
  }

  private async replaceQueued(): Promise<void> {
    if (this.replacing) return;
    this.replacing = true;
    try {
      while (this.queue.length > 0 && !this.shuttingDown) {
        const slot = this.queue.shift() as Slot;
        if (!(await this.replace(slot))) {
          say('replacing stopped: the new worker did not start, the others keep serving');
          this.queue.length = 0;
        } else if (this.queue.length === 0) say('every worker queued for replacement has been replaced');
      }
    } finally {
      this.replacing = false;
    }
  }

  /** Starts a successor in the slot, waits until it listens, then drains the one it replaces. */
  private async replace(slot: Slot): Promise<boolean> {
    const old = slot.current;
    const next = this.fork(slot);
    slot.next = next;
    const ok = await next.listening;
    if (slot.next === next) slot.next = undefined;
    if (!ok || this.shuttingDown) return ok;
    slot.current = next;
    if (old !== undefined && old.worker.isConnected()) this.drain(old);
    return true;
  }

  /** Tells a worker to drain; cuts it at the graceful timeout. */
  private drain(run: Running): void {
    run.draining = true;
    this.draining.set(run.worker, run);
    if (run.slot.current === run) run.slot.current = undefined;
    this.send(run, { pyre: 'drain' });
    const timer = setTimeout(() => this.cut(run), this.options.gracefulTimeoutSeconds * 1000);
    timer.unref();
    run.worker.once('exit', () => clearTimeout(timer));
  }

  private send(run: Running, message: ToWorker): void {
    if (run.worker.isConnected()) run.worker.send(message);
  }

  /** Cuts a worker's remaining requests (it answers how many); kills it if it does not answer. */
  private cut(run: Running): void {
    this.send(run, { pyre: 'cut' });
    const kill = setTimeout(() => run.worker.process.kill('SIGKILL'), CUT_ANSWER_MS);
    kill.unref();
    run.worker.once('exit', () => clearTimeout(kill));
  }

  private everyone(): Running[] {
    const all = new Set<Running>(this.draining.values());
    for (const slot of this.slots) for (const run of [slot.current, slot.next]) if (run) all.add(run);
    return [...all];
  }

  /** Closes the primary's copies of the slots' sockets (a unix socket's file goes too). */
  private closeSlots(): void {
    const open = new Set<number>();
    for (const slot of this.slots) {
      if (slot.fd !== undefined) open.add(slot.fd);
      slot.fd = undefined;
    }
    for (const fd of open) fs.closeSync(fd);
    if (open.size > 0 && this.options.socket !== undefined) fs.rmSync(this.options.socket, { force: true });
  }

  /** SIGTERM/SIGINT: the sockets close (with the workers' own copies), every worker drains. */
  private shutdown(signal: NodeJS.Signals): void {
    this.shuttingDown = true;
    this.queue.length = 0;
    // The primary's copies go first, so each socket closes when its worker stops listening.
    this.closeSlots();
    const all = this.everyone();
    say(`${signal}: draining ${plural(all.length, 'worker')} (graceful timeout ${this.options.gracefulTimeoutSeconds} s)`);
    for (const run of all) {
      if (!run.draining) this.drain(run);
    }
    this.exitWhenAllGone();
  }

  private exitWhenAllGone(): void {
    if (this.everyone().length > 0) return;
    if (this.cutRequests > 0) {
      say(`graceful timeout (${this.options.gracefulTimeoutSeconds} s): cut ${plural(this.cutRequests, 'request')} still in flight`);
      process.exit(1);
    }
    if (this.exitCode === 0) say('stopped');
    process.exit(this.exitCode);
  }

  private exitCode = 0;

  /** A fatal problem: every worker stops now, exit 1. */
  private giveUp(): void {
    this.exitCode = 1;
    this.shuttingDown = true;
    this.closeSlots();
    for (const run of this.everyone()) run.worker.process.kill('SIGKILL');
    this.exitWhenAllGone();
  }

  /** A second SIGINT: no more waiting. */
  private killNow(): void {
    say('SIGINT again: exiting now');
    for (const run of this.everyone()) run.worker.process.kill('SIGKILL');
    process.exit(130);
  }
}
