// One server under test as a child process pinned to the server core: start, check, CPU time, stop.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { SERVER_CORE, pinned } = require('./pin');
const { isCServer, compiledBinary } = require('./c-build');
const { FIXTURE_DIR } = require('./fixtures');

const SERVERS_DIR = path.resolve(__dirname, '../servers');
const TS_HOOK = path.join(__dirname, 'ts-hook.js');
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 15_000;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request of `testCase` (lib/cases.js) on a fresh connection: { status, type, body: Buffer }. */
function ask(url, testCase) {
  return new Promise((resolve, reject) => {
    const headers = testCase.body === undefined ? {} : { 'content-type': testCase.contentType, 'content-length': testCase.body.length };
    const request = http.request(url, { method: testCase.method, headers, agent: false, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] ?? '', body: Buffer.concat(chunks) }));
    });
    request.on('error', reject).on('timeout', () => request.destroy(new Error('no answer in 5 s')));
    request.end(testCase.body);
  });
}

function shown(body) {
  const text = body.subarray(0, 200).toString('latin1');
  return `${JSON.stringify(text)}${body.length > 200 ? ` (${body.length} bytes)` : ''}`;
}

/** The line of a server's output that says what went wrong: its first error line, else its last line. */
function gist(output) {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.find((line) => /^(\w*Error|pyre:|uws:|c-floor:|c-sendfile:)/.test(line)) ?? lines.at(-1) ?? '(no output)';
}

/** [program, args] that run `server`: its compiled binary for C, else node on its file. */
function commandFor(server) {
  const file = path.join(SERVERS_DIR, server.file);
  if (isCServer(server)) return [compiledBinary(file), []];
  const preload = file.endsWith('.ts') ? ['-r', TS_HOOK] : [];
  return [process.execPath, [...preload, file]];
}

class ServerProcess {
  constructor(child, port) {
    this.child = child;
    this.port = port;
    this.output = '';
    this.exited = null;
    const keep = (text) => { this.output = (this.output + text).slice(-4000); };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    child.on('exit', (code, signal) => { this.exited = signal ?? code; });
  }

  /** Starts `server` on a free port and resolves once it accepts connections. */
  static async start(server) {
    const port = await freePort();
    const [command, args] = pinned(SERVER_CORE, ...commandFor(server));
    const env = { ...process.env, ...server.env, PORT: String(port), FIXTURES: FIXTURE_DIR };
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = new ServerProcess(child, port);
    try {
      await started.waitUntilListening();
    } catch (err) {
      await started.stop();
      throw err;
    }
    return started;
  }

  url(requestPath) {
    return `http://${HOST}:${this.port}${requestPath}`;
  }

  async waitUntilListening() {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exited !== null) throw this.failure(`exited (${this.exited}) before listening`);
      if (await this.accepts()) return;
      await sleep(50);
    }
    throw this.failure(`not listening on port ${this.port} after ${START_TIMEOUT_MS / 1000} s`);
  }

  /** An Error saying `what` with the gist of the server's output; `output` keeps all of it. */
  failure(what) {
    return Object.assign(new Error(`${what}: ${gist(this.output)}`), { output: this.output });
  }

  accepts() {
    return new Promise((resolve) => {
      const socket = net.connect(this.port, HOST);
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
  }

  /** Throws unless each of `cases` answers 200 with the expected type and body: never bench an error page. */
  async check(cases) {
    for (const testCase of cases) {
      const { answer } = testCase;
      const seen = await ask(this.url(testCase.url), testCase);
      if (seen.status !== 200 || !seen.type.startsWith(answer.type) || !answer.matches(seen.body)) {
        throw new Error(`${testCase.method} ${testCase.url} answered ${seen.status} (${seen.type}) ${shown(seen.body)}, `
          + `expected 200 (${answer.type || 'any type'}) ${answer.shows}`);
      }
    }
  }

  /** The server's resident memory now, in bytes (VmRSS). */
  residentBytes() {
    const status = fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]) * 1024;
  }

  /** Seconds of CPU the server process has used so far, user plus system, all its threads. */
  cpuSeconds() {
    const stat = fs.readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, from field 3 (state) on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }

  /** SIGTERM, then SIGKILL if it has not gone after 3 s. */
  async stop() {
    if (this.exited !== null) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
}

module.exports = { ServerProcess };
