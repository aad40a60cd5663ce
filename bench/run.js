// `npm run bench`: every server in bench/servers/ under the same load, all started first and then
// measured in interleaved rounds, the servers pinned to one core and the load generator to the
// other. For each path and load mode it reports requests/s, p50/p99 latency and the server's CPU
// time per request (from /proc), the medians across rounds, with ratios to the anchors, checks
// the issues' targets, and saves the run under bench/results/.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseOptions, USAGE } = require('./lib/options');
const { BENCH_DIR, ensureDependencies, chooseTool } = require('./lib/setup');
const { canPin } = require('./lib/pin');
const { selectServers } = require('./lib/catalogue');
const { probePyre, missingFor, staleBuildWarnings } = require('./lib/pyre-probe');
const { cBlocker } = require('./lib/c-build');
const { ServerProcess } = require('./lib/server-process');
const { evaluateTargets, KEEP_ALIVE, PIPELINED } = require('./lib/targets');
const { formatReport } = require('./lib/report');
const { combineRounds } = require('./lib/rounds');
const { settle, totalCpu } = require('./lib/settle');

function describeProblems(measured) {
  const problems = [];
  if (measured.non2xx > 0) problems.push(`${measured.non2xx} non-2xx responses`);
  if (measured.settledAfterMs === null) problems.push('other servers were still busy after 15 s');
  // More than one clock tick per second of the run.
  if (measured.neighbourCpuMs > 10 * Math.max(1, measured.seconds ?? 1)) problems.push(`other servers used ${measured.neighbourCpuMs} ms of CPU meanwhile`);
  if (measured.errors > 0) {
    const kinds = Object.entries(measured.errorKinds).filter(([, count]) => count > 0).map(([kind, count]) => `${kind} ${count}`);
    problems.push(`${measured.errors} socket errors or timeouts (${kinds.join(', ')})`);
  }
  return problems.length > 0 ? problems.join(', ') : null;
}

/**
 * One measured run of `load` with the server's CPU time per request added (from /proc, this
 * server's process only), once every server is idle (see lib/settle.js). `neighbourCpuMs` is
 * what the other servers used meanwhile: anything but ~0 took the server core from this one.
 */
async function measureOnce(running, others, tool, load) {
  if (running.exited !== null) throw running.failure(`the server exited (${running.exited}) while idle`);
  const settledAfterMs = await settle([running, ...others]);
  const cpuBefore = running.cpuSeconds();
  const othersBefore = totalCpu(others);
  const measured = await tool.measure(load);
  if (running.exited !== null) throw running.failure(`the server exited (${running.exited}) under load`);
  const cpu = running.cpuSeconds() - cpuBefore;
  const neighbourCpuMs = Math.round((totalCpu(others) - othersBefore) * 1000);
  return { ...measured, cpuUsPerRequest: measured.requests > 0 ? (cpu * 1e6) / measured.requests : null, settledAfterMs, neighbourCpuMs };
}

function recordFailure(server, why, err, skipped) {
  console.log(`  ${server.name}: failed${why}: ${err.message}`);
  skipped.push({ server: server.name, why: `failed${why}: ${err.message}`, output: err.output });
}

/**
 * Starts every runnable server, checks its answers and warms up each of its paths; they then sit
 * idle on the server core until measured. Each one started is pushed to `started` with its cases
 * (path x mode), each with an empty list of rounds; a server that fails here is reported and left out.
 */
async function startAll(runnable, tool, modes, settings, started, skipped) {
  for (const server of runnable) {
    let running = null;
    try {
      running = await ServerProcess.start(server);
      await running.check(server.paths);
      for (const target of server.paths) {
        if (settings.warmup > 0) {
          await tool.measure({ url: running.url(target.url), connections: settings.connections, seconds: settings.warmup, pipeline: 1 });
        }
      }
      const cases = server.paths.flatMap((target) => modes.map((mode) => ({ target, mode, rounds: [] })));
      started.push({ server, running, cases, failed: false });
      console.log(`  ${server.name}: ready on port ${running.port}`);
    } catch (err) {
      await running?.stop();
      recordFailure(server, '', err, skipped);
    }
  }
}

/**
 * Round after round, every case of every started server once, so that each server's rounds are
 * spread over the whole run and slow drifts of the machine's background load hit all servers
 * alike. A server that fails is stopped, reported, and its figures dropped; the others go on.
 */
async function measureRounds(started, tool, settings, skipped) {
  const nameWidth = Math.max(...started.map(({ server }) => server.name.length));
  for (let round = 1; round <= settings.rounds; round += 1) {
    console.log(`round ${round}/${settings.rounds}`);
    for (const entry of started.filter(({ failed }) => !failed)) {
      const { server, running } = entry;
      let current = null;
      try {
        for (current of entry.cases) {
          const { target, mode } = current;
          const load = { url: running.url(target.url), connections: settings.connections, seconds: settings.duration, pipeline: mode.pipeline };
          const others = started.filter((other) => other !== entry && !other.failed).map((other) => other.running);
          const measured = await measureOnce(running, others, tool, load);
          current.rounds.push(measured);
          const problems = describeProblems(measured);
          console.log(`  ${server.name.padEnd(nameWidth)}  GET ${target.route.padEnd(13)} ${mode.name.padEnd(10)}`
            + ` ${Math.round(measured.rps).toString().padStart(8)} req/s  p99 ${measured.p99Ms === null ? '–' : `${measured.p99Ms.toFixed(2)} ms`}`
            + `  ${measured.cpuUsPerRequest?.toFixed(2) ?? '–'} µs CPU/req`
            + `${measured.settledAfterMs > 1000 ? `  (waited ${(measured.settledAfterMs / 1000).toFixed(1)} s for idle servers)` : ''}`
            + `${problems ? `  (!) ${problems}` : ''}`);
        }
      } catch (err) {
        entry.failed = true;
        await running.stop();
        recordFailure(server, ` in round ${round}/${settings.rounds} (GET ${current.target.route} ${current.mode.name})`, err, skipped);
      }
    }
  }
}

/** Per (server, path, mode) the medians across rounds, in server, path, mode order; failed servers left out. */
function combineResults(started) {
  return started.filter(({ failed }) => !failed).flatMap(({ server, cases }) => cases.map(({ target, mode, rounds }) => {
    const result = { server: server.name, route: target.route, url: target.url, mode: mode.name, pipeline: mode.pipeline, ...combineRounds(rounds) };
    result.problems = describeProblems(result);
    return result;
  }));
}

function saveRun(run) {
  const dir = path.join(BENCH_DIR, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${run.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  return file;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const servers = selectServers(options.servers);
  ensureDependencies();
  const tool = chooseTool(options.tool);
  const settings = {
    tool, duration: options.duration, warmup: options.warmup, rounds: options.rounds, connections: options.connections, pinned: canPin,
  };
  const modes = [{ name: KEEP_ALIVE, pipeline: 1 }];
  if (options.pipeline > 1) modes.push({ name: PIPELINED, pipeline: options.pipeline });

  const usesPyre = servers.some((server) => server.needs.length > 0);
  const probe = usesPyre ? probePyre() : null;
  const blockers = new Map(servers.map((server) => [server, cBlocker(server) ?? (usesPyre ? missingFor(server, probe) : null)]));
  if (usesPyre) for (const warning of staleBuildWarnings()) console.log(`bench: warning: ${warning}`);
  if (!canPin) console.log('bench: warning: taskset or a second core is missing; server and load share the CPU');
  const [load] = os.loadavg();
  if (load > 0.5) console.log(`bench: warning: the machine is busy (load ${load.toFixed(2)}); other processes share these cores and blur the figures`);

  const runnable = servers.filter((server) => blockers.get(server) === null);
  const paths = runnable.reduce((sum, server) => sum + server.paths.length, 0);
  // About a second per server to start and check it.
  const estimate = runnable.length + paths * (options.warmup + modes.length * options.rounds * options.duration);
  const duration = estimate < 90 ? `${estimate} s` : `${Math.ceil(estimate / 60)} min`;
  console.log(`bench: ${runnable.length} servers, ${paths * modes.length * options.rounds} measurements with ${tool}, about ${duration}`);

  const loadGenerator = require(`./lib/${tool}`);
  const skipped = [];
  console.log('starting and warming up');
  for (const server of servers.filter((candidate) => blockers.get(candidate) !== null)) {
    console.log(`  ${server.name}: skipped: ${blockers.get(server)}`);
    skipped.push({ server: server.name, why: `skipped: ${blockers.get(server)}` });
  }
  const started = [];
  try {
    await startAll(runnable, loadGenerator, modes, settings, started, skipped);
    if (started.length > 0) await measureRounds(started, loadGenerator, settings, skipped);
  } finally {
    await Promise.all(started.map(({ running }) => running.stop()));
  }
  const results = combineResults(started);

  const find = (server, route, mode) => results.find((r) => r.server === server && r.route === route && r.mode === mode);
  // Only the targets about servers this run was asked to measure.
  const targets = evaluateTargets(find).filter((target) => servers.some((server) => server.name === target.subject));
  console.log(formatReport({ results, skipped, targets, settings }));
  const file = saveRun({
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, kernel: os.release(), node: process.version, loadBefore: load },
    settings: { ...settings, pipeline: options.pipeline },
    results,
    skipped,
    targets,
  });
  console.log(`\nSaved ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});
