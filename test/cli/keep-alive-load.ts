// Steady keep-alive load that accounts for every request it writes: a few connections, each
// sending its next GET as soon as the previous answer is in. A connection the server closes
// (after a `Connection: close` answer, or under a request) is replaced when `reconnect` is on.
// The servers answer JSON with their `pid`, so answers and losses are counted per process.
import * as net from 'node:net';

export interface LoadReport {
  written: number;
  answered: number;
  /** Requests written whose connection ended without their answer. */
  lost: number;
  /** The pid that served each lost request's connection before (undefined: a new connection). */
  lostOn: (number | undefined)[];
  /** Connection attempts refused (ECONNREFUSED) or reset before any request. */
  refused: number;
  answersByPid: Map<number, number>;
  /** Answers that said Connection: close. */
  closes: number;
}

export interface LoadOptions {
  connections?: number;
  /** Open a new connection when one closes (default true). */
  reconnect?: boolean;
  host?: string;
}

const REQUEST = 'GET / HTTP/1.1\r\nHost: load\r\n\r\n';

export class KeepAliveLoad {
  private stopping = false;
  private readonly running = new Set<Promise<void>>();
  private readonly report: LoadReport = { written: 0, answered: 0, lost: 0, lostOn: [], refused: 0, answersByPid: new Map(), closes: 0 };
  private readonly waiters: (() => void)[] = [];
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly port: number, private readonly options: LoadOptions = {}) {}

  start(): this {
    for (let i = 0; i < (this.options.connections ?? 4); i++) this.spawn();
    return this;
  }

  get answered(): number {
    return this.report.answered;
  }

  /** Answers from `pid` so far. */
  answersBy(pid: number): number {
    return this.report.answersByPid.get(pid) ?? 0;
  }

  /** Resolves once `count` more answers have come (or the load has no connections left). */
  async answers(count: number, timeoutMs = 10_000): Promise<void> {
    const target = this.report.answered + count;
    await this.until(() => this.report.answered >= target || this.running.size === 0, `${count} answers`, timeoutMs);
  }

  /** Resolves once `condition` holds, checked as answers come; fails after `timeoutMs`. */
  async until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`load: no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /**
   * Stops writing requests, waits for those outstanding, and reports; after `timeoutMs` the
   * connections still waiting are destroyed (their requests count as lost).
   */
  async stop(timeoutMs = 10_000): Promise<LoadReport> {
    this.stopping = true;
    const timer = setTimeout(() => this.sockets.forEach((socket) => socket.destroy()), timeoutMs);
    while (this.running.size > 0) await Promise.race([...this.running]);
    clearTimeout(timer);
    return this.report;
  }

  /** Resolves when every connection has ended (the server closed them all, reconnect off). */
  async ended(): Promise<LoadReport> {
    while (this.running.size > 0) await Promise.race([...this.running]);
    return this.report;
  }

  private spawn(): void {
    const run: Promise<void> = this.connection().then(async (refused) => {
      // A refused connection is retried after a pause, not in a tight loop.
      if (refused) await new Promise((resolve) => setTimeout(resolve, 20));
      this.running.delete(run);
      if (this.options.reconnect !== false && !this.stopping) this.spawn();
    });
    this.running.add(run);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** One connection's life: requests one after another until it closes or the load stops. */
  private connection(): Promise<boolean> {
    return new Promise<boolean>((done) => {
      const socket = net.connect(this.port, this.options.host ?? '127.0.0.1');
      this.sockets.add(socket);
      let buffered = Buffer.alloc(0);
      let outstanding = false;
      let pid: number | undefined;
      let finished = false;
      let gotAnswer = false;
      let refused = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        if (outstanding) {
          this.report.lost++;
          this.report.lostOn.push(pid);
        }
        socket.destroy();
        this.sockets.delete(socket);
        done(refused);
      };
      const send = (): void => {
        if (this.stopping) return finish();
        outstanding = true;
        this.report.written++;
        socket.write(REQUEST);
      };
      socket.once('connect', send);
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (!gotAnswer && (err.code === 'ECONNREFUSED' || (err.code === 'ECONNRESET' && !outstanding))) {
          refused = true;
          this.report.refused++;
        }
      });
      socket.on('close', finish);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffered.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
          if (Number.isNaN(length)) throw new Error(`load: an answer without Content-Length: ${head}`);
          if (buffered.length < end + 4 + length) return;
          const body = buffered.subarray(end + 4, end + 4 + length).toString();
          buffered = buffered.subarray(end + 4 + length);
          outstanding = false;
          gotAnswer = true;
          this.report.answered++;
          pid = (JSON.parse(body) as { pid: number }).pid;
          this.report.answersByPid.set(pid, (this.report.answersByPid.get(pid) ?? 0) + 1);
          this.wake();
          if (/\r\nconnection: *close/i.test(head)) {
            this.report.closes++;
            return finish();
          }
          send();
        }
      });
    });
  }
}
