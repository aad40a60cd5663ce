// `npm run bench`: every server in bench/servers/ under the same load, all started first and then
// measured in interleaved rounds, the servers pinned to one core and the load generator to the
// other. For each case (lib/cases.js) and load mode it reports requests/s, p50/p99 latency and the
// server's CPU time per request (from /proc), the medians across rounds, with ratios to the
// anchors; for the idle-connections case the memory each connection costs. It checks the issues'
// targets and saves the run under bench/results/ as JSON and SVG charts.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseOptions, USAGE } = require('./lib/options');
const { BENCH_DIR, ensureDependencies, chooseTool } = require('./lib/setup');
const { canPin, FILE_LIMIT } = require('./lib/pin');
const { selectServers, baselineTwins } = require('./lib/catalogue');
const { probePyre, missingFor, staleBuildWarnings } = require('./lib/pyre-probe');
const { cBlocker } = require('./lib/c-build');
const { ServerProcess } = require('./lib/server-process');
const { evaluateTargets, KEEP_ALIVE, PIPELINED, IDLE } = require('./lib/targets');
const { formatReport } = require('./lib/report');
const { combineRounds } = require('./lib/rounds');
const { settle, totalCpu } = require('./lib/settle');
const { measureIdle } = require('./lib/idle');
const { writeCharts } = require('./lib/charts');

/** File descriptors a load generator or server needs beyond one per connection. */
const SPARE_FILES = 100;

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
  if (measured.failed > 0) problems.push(`${measured.failed} of ${measured.connections} connections failed to open`);
  if (measured.closedMeanwhile > 0) problems.push(`${measured.closedMeanwhile} idle connections were closed by the server while measured`);
  return problems.length > 0 ? problems.join(', ') : null;
}

/** The connections a case is measured with: its own count (capped by the file limit), else the run's. */
function connectionsFor(testCase, settings) {
  const wanted = testCase.connections ?? testCase.idle ?? settings.connections;
  return Math.min(wanted, FILE_LIMIT - SPARE_FILES);
}

/**
 * One measured run of `load` with the server's CPU time per request added (from /proc, this
 * server's process only), once every server is idle (see lib/settle.js). `neighbourCpuMs` is
 * what the other servers used meanwhile: anything but ~0 took the server core from this one.
 * An idle-connections case measures memory instead, of a fresh copy of the server (lib/idle.js).
 */
async function measureOnce(entry, others, tool, load) {
  const { running } = entry;
  if (running.exited !== null) throw running.failure(`the server exited (${running.exited}) while idle`);
  const settledAfterMs = await settle([running, ...others]);
  if (load.request.idle) {
    const warmUp = (fresh) => tool.measure({ ...load, url: fresh.url(load.request.url), connections: 64, seconds: 1 });
    return { ...await measureIdle(entry.server, load.request, load.connections, warmUp), settledAfterMs };
  }
  const cpuBefore = running.cpuSeconds();
  const othersBefore = totalCpu(others);
  const measured = await tool.measure(load);
  if (running.exited !== null) throw running.failure(`the server exited (${running.exited}) under load`);
  const cpu = running.cpuSeconds() - cpuBefore;
  const neighbourCpuMs = Math.round((totalCpu(others) - othersBefore) * 1000);
  const cpuUsPerRequest = measured.requests > 0 ? (cpu * 1e6) / measured.requests : null;
  return { ...measured, cpuUsPerRequest, settledAfterMs, neighbourCpuMs };
}

function recordFailure(server, why, err, skipped) {
  console.log(`  ${server.name}: failed${why}: ${err.message}`);
  skipped.push({ server: server.name, why: `failed${why}: ${err.message}`, output: err.output });
}

/** The load modes a case is measured in. */
function modesFor(testCase, settings) {
  if (testCase.idle) return [{ name: IDLE, pipeline: 1 }];
  const modes = [{ name: KEEP_ALIVE, pipeline: 1 }];
  if (testCase.pipelined && settings.pipeline > 1) modes.push({ name: PIPELINED, pipeline: settings.pipeline });
  return modes;
}

/**
 * Starts every runnable server, checks its answers and warms up each of its cases; they then sit
 * idle on the server core until measured. Each one started is pushed to `started` with its
 * measurements (case x mode), each with an empty list of rounds; a server that fails here is
 * reported and left out.
 */
async function startAll(runnable, tool, settings, started, skipped) {
  for (const server of runnable) {
    let running = null;
    try {
      running = await ServerProcess.start(server);
      await running.check(server.cases);
      for (const testCase of server.cases) {
        if (settings.warmup > 0 && !testCase.idle && testCase.connections === undefined) {
          await tool.measure({ url: running.url(testCase.url), connections: settings.connections, seconds: settings.warmup, pipeline: 1, request: testCase });
        }
      }
      const cases = server.cases.flatMap((testCase) => modesFor(testCase, settings).map((mode) => ({ testCase, mode, rounds: [] })));
      started.push({ server, running, cases, failed: false });
      console.log(`  ${server.name}: ready on port ${running.port}`);
    } catch (err) {
      await running?.stop();
      recordFailure(server, '', err, skipped);
    }
  }
}

function progressLine(nameWidth, server, testCase, mode, measured) {
  const problems = describeProblems(measured);
  const label = `${server.name.padEnd(nameWidth)}  ${testCase.id.padEnd(12)} ${mode.name.padEnd(10)}`;
  const waited = measured.settledAfterMs > 1000 ? `  (waited ${(measured.settledAfterMs / 1000).toFixed(1)} s for idle servers)` : '';
  const flagged = problems ? `  (!) ${problems}` : '';
  if (mode.name === IDLE) {
    const perConnection = measured.bytesPerConnection === null ? '–' : `${Math.round(measured.bytesPerConnection)} B`;
    return `  ${label} ${measured.open} open, ${perConnection} RSS per connection${flagged}`;
  }
  return `  ${label} ${Math.round(measured.rps).toString().padStart(8)} req/s  p99 ${measured.p99Ms === null ? '–' : `${measured.p99Ms.toFixed(2)} ms`}`
    + `  ${measured.cpuUsPerRequest?.toFixed(2) ?? '–'} µs CPU/req${waited}${flagged}`;
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
          const { testCase, mode } = current;
          const load = {
            url: running.url(testCase.url),
            connections: connectionsFor(testCase, settings),
            seconds: settings.duration * (testCase.durationFactor ?? 1),
            pipeline: mode.pipeline,
            request: testCase,
          };
          const others = started.filter((other) => other !== entry && !other.failed).map((other) => other.running);
          const measured = await measureOnce(entry, others, tool, load);
          current.rounds.push({ ...measured, connections: load.connections });
          console.log(progressLine(nameWidth, server, testCase, mode, measured));
        }
      } catch (err) {
        entry.failed = true;
        await running.stop();
        recordFailure(server, ` in round ${round}/${settings.rounds} (${current.testCase.id} ${current.mode.name})`, err, skipped);
      }
    }
  }
}

/** Per (server, case, mode) the medians across rounds, in server, case, mode order; failed servers left out. */
function combineResults(started) {
  return started.filter(({ failed }) => !failed).flatMap(({ server, cases }) => cases.map(({ testCase, mode, rounds }) => {
    const result = {
      server: server.name, case: testCase.id, title: testCase.title, method: testCase.method, url: testCase.url, mode: mode.name, pipeline: mode.pipeline, ...combineRounds(rounds),
    };
    result.problems = describeProblems(result);
    return result;
  }));
}

function saveRun(run) {
  const dir = path.join(BENCH_DIR, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = run.date.replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}.json`);
  fs.writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  const charts = writeCharts(run, path.join(dir, stamp));
  return { file, charts };
}

/** The selected servers, plus their twins on the --baseline build; throws if that build is missing. */
function serversToRun(options) {
  const servers = selectServers(options.servers, options.cases);
  if (options.baseline === null) return servers;
  if (!fs.existsSync(path.join(options.baseline, 'dist/src/index.js'))) {
    throw new Error(`--baseline ${options.baseline} has no built Pyre (dist/src/index.js); run npm install there first`);
  }
  return [...servers, ...baselineTwins(servers, options.baseline)];
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const servers = serversToRun(options);
  ensureDependencies();
  const tool = chooseTool(options.tool);
  const settings = {
    tool, duration: options.duration, warmup: options.warmup, rounds: options.rounds, connections: options.connections, pipeline: options.pipeline, pinned: canPin,
  };

  const usesPyre = servers.some((server) => server.needs.length > 0);
  const probe = usesPyre ? probePyre() : null;
  const blockers = new Map(servers.map((server) => [server, cBlocker(server) ?? (usesPyre ? missingFor(server, probe) : null)]));
  if (usesPyre) for (const warning of staleBuildWarnings()) console.log(`bench: warning: ${warning}`);
  if (!canPin) console.log('bench: warning: taskset or a second core is missing; server and load share the CPU');
  const [load] = os.loadavg();
  if (load > 0.5) console.log(`bench: warning: the machine is busy (load ${load.toFixed(2)}); other processes share these cores and blur the figures`);

  const runnable = servers.filter((server) => blockers.get(server) === null);
  const measurements = runnable.flatMap((server) => server.cases.flatMap((testCase) => modesFor(testCase, settings).map(() => testCase)));
  const warmups = runnable.reduce((sum, server) => sum + server.cases.filter((c) => !c.idle && !c.connections).length, 0);
  // About a second per server to start and check it, and one per measurement to settle.
  const seconds = measurements.reduce((sum, testCase) => sum + options.duration * (testCase.durationFactor ?? 1) + 1, 0);
  const estimate = runnable.length + warmups * options.warmup + options.rounds * seconds;
  const duration = estimate < 90 ? `${estimate} s` : `${Math.ceil(estimate / 60)} min`;
  console.log(`bench: ${runnable.length} servers, ${measurements.length * options.rounds} measurements with ${tool}, about ${duration}`);

  const loadGenerator = require(`./lib/${tool}`);
  const skipped = [];
  console.log('starting and warming up');
  for (const server of servers.filter((candidate) => blockers.get(candidate) !== null)) {
    console.log(`  ${server.name}: skipped: ${blockers.get(server)}`);
    skipped.push({ server: server.name, why: `skipped: ${blockers.get(server)}` });
  }
  const started = [];
  const startedAt = Date.now();
  try {
    await startAll(runnable, loadGenerator, settings, started, skipped);
    if (started.length > 0) await measureRounds(started, loadGenerator, settings, skipped);
  } finally {
    await Promise.all(started.map(({ running }) => running.stop()));
  }
  const results = combineResults(started);

  const find = (server, caseId, mode) => results.find((r) => r.server === server && r.case === caseId && r.mode === mode);
  // Only the targets about servers this run was asked to measure.
  const targets = evaluateTargets(find).filter((target) => servers.some((server) => server.name === target.subject));
  console.log(formatReport({ results, skipped, targets, settings }));
  const { file, charts } = saveRun({
    date: new Date().toISOString(),
    minutes: Math.round((Date.now() - startedAt) / 6000) / 10,
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, kernel: os.release(), node: process.version, loadBefore: load },
    settings: { ...settings, quick: options.quick, baseline: options.baseline },
    results,
    skipped,
    targets,
  });
  console.log(`\nSaved ${path.relative(process.cwd(), file)} and charts ${charts.map((chart) => path.relative(process.cwd(), chart)).join(', ')}`);
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});
