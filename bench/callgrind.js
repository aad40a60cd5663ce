// `node bench/callgrind.js -s <server> -k <case> [-n 400] [-w 200]`: user-space instructions per
// request of one bench server on one case, counted by valgrind's callgrind. Unlike CPU time on a
// shared machine the count hardly moves from run to run, so it decides whether a change pays.
// The server runs under callgrind; a client (this process) sends the warm-up requests, the
// counters are dumped and zeroed (callgrind_control --dump), the measured requests are sent on a
// few keep-alive connections, and the second dump's instruction count is divided by them. Kernel
// work (the syscalls themselves) is not counted: see `npm run bench` for the whole cost.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { selectServers } = require('./lib/catalogue');
const { FIXTURE_DIR } = require('./lib/fixtures');

const USAGE = `Usage: node bench/callgrind.js -s <server> -k <case> [options]
  -s, --server <name>   a server of bench/lib/catalogue.js (node servers only)
  -k, --case <id>       one of its cases (bench/lib/cases.js); not the 10k ones
  -n, --requests <n>    requests counted (default 1000)
  -w, --warmup <n>      requests first, not counted, so the code is compiled (default 3000;
                        fewer leaves TurboFan compiling during the count)
  -c, --connections <n> keep-alive connections the requests are spread over (default 4)
  --annotate            print callgrind_annotate's top functions of the measured part`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function options() {
  const { values } = parseArgs({
    options: {
      server: { type: 'string', short: 's' },
      case: { type: 'string', short: 'k' },
      requests: { type: 'string', short: 'n', default: '1000' },
      warmup: { type: 'string', short: 'w', default: '3000' },
      connections: { type: 'string', short: 'c', default: '4' },
      annotate: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.server || !values.case) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 1);
  }
  const [server] = selectServers([values.server], [values.case]);
  if (server === undefined) throw new Error(`${values.server} does not serve ${values.case}`);
  if (server.file.endsWith('.c')) throw new Error('the C servers are references for the kernel\'s cost: count a node server');
  return { server, testCase: server.cases[0], requests: Number(values.requests), warmup: Number(values.warmup), connections: Number(values.connections), annotate: values.annotate };
}

/** Sends `count` requests of `testCase`, `connections` at a time on keep-alive connections; rejects on a wrong answer. */
async function send(port, testCase, count, connections) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let left = count;
  const one = () => new Promise((resolve, reject) => {
    const headers = testCase.body === undefined ? {} : { 'content-type': testCase.contentType, 'content-length': testCase.body.length };
    const request = http.request({ host: '127.0.0.1', port, path: testCase.url, method: testCase.method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => (res.statusCode === 200 && testCase.answer.matches(Buffer.concat(chunks)) ? resolve() : reject(new Error(`wrong answer: ${res.statusCode}`))));
    });
    request.on('error', reject);
    request.end(testCase.body);
  });
  const worker = async () => {
    while (left > 0) {
      left -= 1;
      await one();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  agent.destroy();
}

/** The instruction count (Ir) in a callgrind output file. */
function instructions(file) {
  const summary = /^(?:summary|totals): (\d+)/m.exec(fs.readFileSync(file, 'utf8'));
  if (!summary) throw new Error(`no instruction count in ${file}`);
  return Number(summary[1]);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child) {
  for (let i = 0; i < 600; i += 1) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(200);
  }
  throw new Error('the server did not listen within two minutes');
}

async function main() {
  const { server, testCase, requests, warmup, connections, annotate } = options();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-callgrind-'));
  const port = await freePort();
  const file = path.join(__dirname, 'servers', server.file);
  const preload = file.endsWith('.ts') ? ['-r', path.join(__dirname, 'lib/ts-hook.js')] : [];
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${dir}/out.%p`, process.execPath, ...preload, file], {
    env: { ...process.env, ...server.env, PORT: String(port), FIXTURES: FIXTURE_DIR },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (text) => { stderr = (stderr + text).slice(-4000); });
  try {
    await waitForPort(port, child);
    await send(port, testCase, warmup, connections);
    execFileSync('callgrind_control', ['--dump=warmup', String(child.pid)], { stdio: 'ignore' });
    await send(port, testCase, requests, connections);
    execFileSync('callgrind_control', ['--dump=measured', String(child.pid)], { stdio: 'ignore' });
    const measured = fs.readdirSync(dir).map((name) => path.join(dir, name)).filter((name) => /\.\d+\.2$/.test(name) || name.endsWith('.2'));
    if (measured.length === 0) throw new Error(`callgrind wrote no second dump in ${dir}`);
    const total = measured.reduce((sum, name) => sum + instructions(name), 0);
    console.log(`${server.name} ${testCase.id}: ${Math.round(total / requests).toLocaleString('en-US')} instructions per request (${requests} requests after ${warmup} unmeasured)`);
    if (annotate) console.log(execFileSync('callgrind_annotate', ['--inclusive=no', measured[0]], { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n').slice(0, 60).join('\n'));
  } catch (err) {
    throw new Error(`${err.message}\n${stderr}`);
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
    if (!annotate) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench/callgrind.js: ${err.message}`);
  process.exitCode = 1;
});
