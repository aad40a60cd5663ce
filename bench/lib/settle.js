// The servers share one core, so a server still busy after its own run (a backlog of pipelined
// requests it read but had not answered when the load stopped, or a garbage collection) would
// take CPU from the next server's measurement and show up in that server's latency tail. Before
// each measurement, wait until every server is idle.

const WINDOW_MS = 250;
/** CPU the idle servers may use in one window together: one clock tick of /proc's accounting. */
const IDLE_CPU_SECONDS = 0.01;
const MAX_WAIT_MS = 15_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds used by all `processes` (ServerProcess) still running. */
function totalCpu(processes) {
  return processes.filter((p) => p.exited === null).reduce((sum, p) => sum + p.cpuSeconds(), 0);
}

/**
 * Resolves once all `processes` together used at most one tick of CPU in a 250 ms window, to the
 * milliseconds waited; to null if they are still busy after 15 s.
 */
async function settle(processes) {
  const start = Date.now();
  let before = totalCpu(processes);
  while (Date.now() - start < MAX_WAIT_MS) {
    await sleep(WINDOW_MS);
    const now = totalCpu(processes);
    if (now - before <= IDLE_CPU_SECONDS) return Date.now() - start;
    before = now;
  }
  return null;
}

module.exports = { settle, totalCpu };
