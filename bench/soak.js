// `npm run soak [-- --duration <s>]`: mixed load against a Pyre fast-path server in a child
// process for a bounded time, watching the server's memory and file descriptors.
//
// Pass: the server never crashes; every well-formed request is answered correctly; once the
// clients are gone it holds no more fds than at the start; RSS after warm-up stays flat: the
// final RSS is at most RSS_TOLERANCE_MIB above the RSS at the end of warm-up.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { SCENARIOS } = require('./soak/scenarios');

const SAMPLE_EVERY_MS = 30_000;
/** Warm-up: the first WARMUP_FRACTION of the run, at most MAX_WARMUP_S. */
const WARMUP_FRACTION = 0.2;
const MAX_WARMUP_S = 60;
const RSS_TOLERANCE_MIB = 16;
/** How long the server may take to let go of the fds of connections the clients closed. */
const FD_SETTLE_MS = 5000;

const USAGE = `Usage: npm run soak -- [--duration <seconds>]   (default 300)`;

function options() {
  const { values } = parseArgs({ options: { duration: { type: 'string', short: 'd', default: '300' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const duration = Number(values.duration);
  if (!Number.isInteger(duration) || duration < 10) throw new Error(`--duration must be an integer >= 10 (seconds), got ${values.duration}`);
  return { duration };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the app; resolves with the child and its port once it listens. */
function startServer() {
  const child = spawn(process.execPath, ['-r', path.join(__dirname, 'lib/ts-hook.js'), path.join(__dirname, 'soak/server.js')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = { child, port: 0, exit: null, errorLines: [] };
  child.on('exit', (code, signal) => { server.exit = signal ?? code; });
  child.stderr.setEncoding('utf8').on('data', (text) => server.errorLines.push(...text.split('\n').filter(Boolean)));
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (text) => {
      const match = /listening (\d+)/.exec(text);
      if (match && server.port === 0) {
        server.port = Number(match[1]);
        resolve(server);
      }
    });
    child.once('exit', () => reject(new Error(`the soak server exited before listening: ${server.errorLines.join('\n')}`)));
  });
}

/** The server's resident memory (MiB) and open file descriptors, from /proc. */
function measure(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return { rss: rssKiB / 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

class Tally {
  constructor() {
    this.served = 0;
    this.rounds = {};
    this.errors = {};
  }

  ok(scenario, responses) {
    this.served += responses;
    this.rounds[scenario] = (this.rounds[scenario] ?? 0) + 1;
  }

  failed(scenario, err) {
    const kind = `${scenario}/${err.kind ?? 'client-exception'}`;
    if (this.errors[kind] === undefined) console.log(`  first ${kind}: ${err.message}`);
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  errorCount() {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }
}

/** Runs one scenario in a loop until the deadline. */
async function loop(name, scenario, port, deadline, tally) {
  while (Date.now() < deadline) {
    try {
      tally.ok(name, await scenario(port));
    } catch (err) {
      tally.failed(name, err);
      await sleep(10);
    }
  }
}

function report(label, elapsedS, tally, sample) {
  const errors = tally.errorCount() === 0 ? 'none' : JSON.stringify(tally.errors);
  console.log(`${label.padEnd(9)} t=${String(elapsedS).padStart(4)}s  served=${String(tally.served).padStart(8)}  `
    + `rss=${sample.rss.toFixed(1)} MiB  fds=${sample.fds}  errors: ${errors}`);
}

async function main() {
  const { duration } = options();
  const warmupS = Math.min(MAX_WARMUP_S, Math.round(duration * WARMUP_FRACTION));
  const server = await startServer();
  const pid = server.child.pid;
  const start = measure(pid);
  console.log(`soak: ${duration} s against pid ${pid} on 127.0.0.1:${server.port} (warm-up ${warmupS} s, RSS tolerance ${RSS_TOLERANCE_MIB} MiB)`);
  console.log(`scenarios: ${Object.entries(SCENARIOS).map(([name, [n]]) => `${name}×${n}`).join(', ')}`);
  const tally = new Tally();
  report('start', 0, tally, start);

  const began = Date.now();
  const deadline = began + duration * 1000;
  const loops = Object.entries(SCENARIOS).flatMap(([name, [count, scenario]]) =>
    Array.from({ length: count }, () => loop(name, scenario, server.port, deadline, tally)));

  let warm = null;
  const samples = [];
  const sampler = setInterval(() => {
    if (server.exit !== null) return;
    const elapsedS = Math.round((Date.now() - began) / 1000);
    const sample = measure(pid);
    samples.push(sample);
    report('sample', elapsedS, tally, sample);
  }, SAMPLE_EVERY_MS);
  const warmTimer = setTimeout(() => { if (server.exit === null) warm = measure(pid); }, warmupS * 1000);
  await Promise.all(loops);
  clearInterval(sampler);
  clearTimeout(warmTimer);

  const failures = [];
  let end = null;
  if (server.exit !== null) {
    failures.push(`the server died (${server.exit}): ${server.errorLines.slice(-5).join(' | ')}`);
  } else {
    const settleBy = Date.now() + FD_SETTLE_MS;
    end = measure(pid);
    while (end.fds > start.fds && Date.now() < settleBy) {
      await sleep(100);
      end = measure(pid);
    }
    report('end', Math.round((Date.now() - began) / 1000), tally, end);
    if (end.fds > start.fds) failures.push(`fd leak: ${end.fds} open at the end, ${start.fds} at the start`);
    const growth = end.rss - (warm ?? start).rss;
    console.log(`RSS: start ${start.rss.toFixed(1)}, after warm-up ${(warm ?? start).rss.toFixed(1)}, `
      + `peak ${Math.max(...samples.map((s) => s.rss), end.rss).toFixed(1)}, end ${end.rss.toFixed(1)} MiB (growth after warm-up ${growth.toFixed(1)} MiB)`);
    if (growth > RSS_TOLERANCE_MIB) failures.push(`RSS grew ${growth.toFixed(1)} MiB after warm-up (tolerance ${RSS_TOLERANCE_MIB} MiB)`);
  }
  if (tally.errorCount() > 0) failures.push(`${tally.errorCount()} requests not answered correctly: ${JSON.stringify(tally.errors)}`);
  if (server.errorLines.length > 0) failures.push(`the server logged errors: ${server.errorLines.slice(0, 5).join(' | ')}`);
  console.log(`rounds: ${JSON.stringify(tally.rounds)}`);

  if (server.exit === null) {
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    const killer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(killer);
    if (code !== 0) failures.push(`the server did not shut down cleanly on SIGTERM (exit ${code ?? server.exit})`);
  }
  console.log(`served ${tally.served} checked responses in ${duration} s`);
  console.log(failures.length === 0 ? 'PASS' : `FAIL\n  - ${failures.join('\n  - ')}`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 2;
});
