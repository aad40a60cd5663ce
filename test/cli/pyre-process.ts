// Runs `pyre serve` (the compiled bin, as users run it) and follows its status lines.
import { type ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '../..');
export const FIXTURES = path.join(__dirname, 'fixtures');
const BIN = path.join(ROOT, 'dist/src/cli/main.js');

export class PyreProcess {
  readonly child: ChildProcess;
  /** Standard error's lines so far (the status lines). */
  readonly lines: string[] = [];
  stdout = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: (() => void)[] = [];

  constructor(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [BIN, 'serve', ...args], {
      cwd: options.cwd ?? FIXTURES,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      this.lines.push(...complete);
      this.wake();
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.wake();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      this.wake();
      resolve({ code, signal });
    }));
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** The first line (from `from` on) matching `pattern`; fails after `ms` with what was seen. */
  async line(pattern: RegExp, ms = 15_000, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let i = from; i < this.lines.length; i++) {
        const match = pattern.exec(this.lines[i]);
        if (match) return match;
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline) {
        throw new Error(`no line matching ${pattern} (exit ${this.child.exitCode ?? this.child.signalCode}); got:\n${this.lines.join('\n')}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Lines matching `pattern` now. */
  matching(pattern: RegExp): RegExpExecArray[] {
    return this.lines.map((line) => pattern.exec(line)).filter((m): m is RegExpExecArray => m !== null);
  }

  /** The port of the start-up line `serving ... at http://host:port`. */
  async port(ms?: number): Promise<number> {
    return Number((await this.line(/^pyre: serving .* at http:\/\/[^ ]*:(\d+)/, ms))[1]);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** The exit, or a SIGKILL after `ms` (so a test's cleanup never hangs). */
  async exit(ms = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the process whatever state it is in (afterEach). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** One GET on a new connection (to 127.0.0.1:port, or a unix socket's path); the JSON answer. */
export function getJson<T = { pid: number; kind: string }>(port: number | string, urlPath = '/'): Promise<T> {
  const where = typeof port === 'string' ? { socketPath: port } : { host: '127.0.0.1', port };
  return new Promise((resolve, reject) => {
    http.get({ ...where, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as T);
        } catch (err) {
          reject(new Error(`not JSON (${res.statusCode}): ${body}`));
        }
      });
    }).on('error', reject);
  });
}
