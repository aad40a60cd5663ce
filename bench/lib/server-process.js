// One server under test as a child process pinned to the server core: start, check, CPU time, stop.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { SERVER_CORE, pinned } = require('./pin');
const { isCServer, compiledBinary } = require('./c-build');

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

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (text) => { body += text; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] ?? '', body }));
    }).on('error', reject).on('timeout', function onTimeout() { this.destroy(new Error('no answer in 5 s')); });
  });
}

function sameBody(expected, seen, type) {
  if (!type.startsWith('application/json')) return seen === expected;
  try {
    return JSON.stringify(JSON.parse(seen)) === expected;
  } catch {
    return false;
  }
}

/** The line of a server's output that says what went wrong: its first error line, else its last line. */
function gist(output) {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.find((line) => /^(\w*Error|pyre:|uws:|c-floor:)/.test(line)) ?? lines.at(-1) ?? '(no output)';
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
    const child = spawn(command, args, { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
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

  /** Throws unless `paths` each answer 200 with the expected type and body: never bench an error page. */
  async check(paths) {
    for (const expected of paths) {
      const seen = await get(this.url(expected.url));
      if (seen.status !== 200 || !seen.type.startsWith(expected.type) || !sameBody(expected.body, seen.body, expected.type)) {
        throw new Error(`GET ${expected.url} answered ${seen.status} (${seen.type}) ${JSON.stringify(seen.body.slice(0, 200))}, `
          + `expected 200 (${expected.type}) ${JSON.stringify(expected.body)}`);
      }
    }
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
