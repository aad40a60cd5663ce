// Several rounds of one measurement folded into one: the median of each figure, so a burst of
// other work on the machine during one round does not decide the result.

const FIGURES = ['rps', 'p50Ms', 'p99Ms', 'cpuUsPerRequest', 'bytesPerConnection', 'rssBefore', 'rssWith'];

function median(values) {
  const known = values.filter((value) => value !== null).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? known[middle] : (known[middle - 1] + known[middle]) / 2;
}

/**
 * One measurement from `rounds` (each with those of the figures above its kind has, requests,
 * seconds, errors, errorKinds, non2xx, neighbourCpuMs, connections, and settledAfterMs: null
 * when the other servers never went idle, which stays null here if it was so in any round).
 */
function combineRounds(rounds) {
  if (rounds.length === 1) return rounds[0];
  const combined = { requests: 0, seconds: 0, errors: 0, non2xx: 0, neighbourCpuMs: 0, failed: 0, closedMeanwhile: 0 };
  for (const round of rounds) {
    for (const count of Object.keys(combined)) combined[count] += round[count] ?? 0;
  }
  combined.connections = rounds[0].connections;
  combined.errorKinds = {};
  for (const round of rounds) {
    for (const [kind, count] of Object.entries(round.errorKinds ?? {})) combined.errorKinds[kind] = (combined.errorKinds[kind] ?? 0) + count;
  }
  const waits = rounds.map((round) => round.settledAfterMs);
  combined.settledAfterMs = waits.includes(null) ? null : Math.max(...waits);
  for (const figure of FIGURES) combined[figure] = median(rounds.map((round) => round[figure] ?? null));
  combined.rounds = rounds;
  return combined;
}

module.exports = { combineRounds };
