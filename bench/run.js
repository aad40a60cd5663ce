// `npm run bench`: every server in bench/servers/ under the same load, one after another, the
// server pinned to one core and the load generator to the other. For each path and load mode it
// reports requests/s, p50/p99 latency and the server's CPU time per request (from /proc), with
// ratios to the anchors, checks the issues' targets, and saves the run under bench/results/.
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

function describeProblems(measured) {
  const problems = [];
  if (measured.non2xx > 0) problems.push(`${measured.non2xx} non-2xx responses`);
  if (measured.errors > 0) {
    const kinds = Object.entries(measured.errorKinds).filter(([, count]) => count > 0).map(([kind, count]) => `${kind} ${count}`);
    problems.push(`${measured.errors} socket errors or timeouts (${kinds.join(', ')})`);
  }
  return problems.length > 0 ? problems.join(', ') : null;
}

/** One measured run of `url` with the server's CPU time per request added. */
async function measureOnce(running, tool, load) {
  const cpuBefore = running.cpuSeconds();
  const measured = await tool.measure(load);
  const cpu = running.cpuSeconds() - cpuBefore;
  if (running.exited !== null) throw running.failure(`the server exited (${running.exited}) under load`);
  return { ...measured, cpuUsPerRequest: measured.requests > 0 ? (cpu * 1e6) / measured.requests : null };
}

/** Measures every path of one running server in every mode; each result is pushed as it comes. */
async function benchServer(server, running, tool, modes, settings, results) {
  for (const target of server.paths) {
    const url = running.url(target.url);
    if (settings.warmup > 0) {
      await tool.measure({ url, connections: settings.connections, seconds: settings.warmup, pipeline: 1 });
    }
    for (const mode of modes) {
      const load = { url, connections: settings.connections, seconds: settings.duration, pipeline: mode.pipeline };
      const rounds = [];
      for (let round = 0; round < settings.rounds; round += 1) rounds.push(await measureOnce(running, tool, load));
      const result = { server: server.name, route: target.route, url: target.url, mode: mode.name, pipeline: mode.pipeline, ...combineRounds(rounds) };
      result.problems = describeProblems(result);
      results.push(result);
      console.log(`  GET ${target.route.padEnd(13)} ${mode.name.padEnd(10)} ${Math.round(result.rps).toString().padStart(7)} req/s`
        + `  p99 ${result.p99Ms?.toFixed(2) ?? '–'} ms  ${result.cpuUsPerRequest?.toFixed(2) ?? '–'} µs CPU/req${result.problems ? `  (!) ${result.problems}` : ''}`);
    }
  }
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
  const results = [];
  const skipped = [];
  for (const server of servers) {
    const blocker = blockers.get(server);
    if (blocker !== null) {
      console.log(`${server.name}: skipped: ${blocker}`);
      skipped.push({ server: server.name, why: `skipped: ${blocker}` });
      continue;
    }
    console.log(server.name);
    let running = null;
    try {
      running = await ServerProcess.start(server);
      await running.check(server.paths);
      await benchServer(server, running, loadGenerator, modes, settings, results);
    } catch (err) {
      console.log(`  failed: ${err.message}`);
      skipped.push({ server: server.name, why: `failed: ${err.message}`, output: err.output });
    } finally {
      await running?.stop();
    }
  }

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
