// The printed report: one table per path and load mode, ratios to the anchors, then the targets.
const { KEEP_ALIVE } = require('./targets');

/** Ratio columns per path: GET / against node:http, the framework routes against uWS and Fastify. */
function anchorsFor(route) {
  return route === '/' ? ['node-http'] : ['uws', 'fastify'];
}

/** The C epoll responder: its CPU per request is the kernel's share, shown as a last column when measured. */
const FLOOR = 'c-floor';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function milliseconds(value) {
  if (value === null) return '–';
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

function ratio(value, reference) {
  return value === null || !reference ? '–' : `×${(value / reference).toFixed(2)}`;
}

function alignedTable(header, rows) {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

function caseTable(cases, anchors) {
  const header = ['server', 'req/s', 'p50', 'p99', 'CPU µs/req'];
  for (const anchor of anchors) header.push(`req/s ×${anchor}`, `p99 ×${anchor}`, `CPU ×${anchor}`);
  const floor = cases.find((other) => other.server === FLOOR);
  if (floor) header.push(`CPU ×${FLOOR}`);
  const rows = cases.map((measured) => {
    const row = [
      measured.server + (measured.problems ? ' (!)' : ''),
      integer.format(measured.rps),
      milliseconds(measured.p50Ms),
      milliseconds(measured.p99Ms),
      measured.cpuUsPerRequest === null ? '–' : measured.cpuUsPerRequest.toFixed(2),
    ];
    for (const anchor of anchors) {
      const reference = cases.find((other) => other.server === anchor);
      row.push(ratio(measured.rps, reference?.rps), ratio(measured.p99Ms, reference?.p99Ms),
        ratio(measured.cpuUsPerRequest, reference?.cpuUsPerRequest));
    }
    if (floor) row.push(ratio(measured.cpuUsPerRequest, floor.cpuUsPerRequest));
    return row;
  });
  return alignedTable(header, rows);
}

/** The whole report as text. */
function formatReport({ results, skipped, targets, settings }) {
  const out = [];
  const groups = new Map();
  for (const measured of results) {
    const key = `${measured.route}\u0000${measured.mode}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(measured);
  }
  for (const cases of groups.values()) {
    const { route, mode, pipeline } = cases[0];
    const load = mode === KEEP_ALIVE ? 'keep-alive' : `pipelined, ${pipeline} requests per write`;
    const rounds = settings.rounds > 1 ? ` (medians of ${settings.rounds} rounds)` : '';
    out.push('', `GET ${route} — ${load}, ${settings.connections} connections, ${settings.duration} s${rounds}, ${settings.tool}`);
    out.push(caseTable(cases, anchorsFor(route)));
  }
  const problems = results.filter((measured) => measured.problems);
  if (problems.length > 0) {
    out.push('', '(!) not every response was a clean 2xx:');
    for (const measured of problems) out.push(`  ${measured.server} GET ${measured.route} ${measured.mode}: ${measured.problems}`);
  }
  if (skipped.length > 0) {
    out.push('', 'Not measured:');
    for (const entry of skipped) out.push(`  ${entry.server}: ${entry.why}`);
  }
  if (targets.length > 0) out.push('', 'Targets (from issues 3, 4 and 5; benchmark figures, not tests):');
  for (const target of targets) {
    const detail = target.verdict === 'n/a' ? 'not measured in this run' : `×${target.ratio.toFixed(3)} (${target.measured})`;
    out.push(`  [${target.verdict.padEnd(6)}] ${target.description}: ${detail}`);
  }
  return out.join('\n');
}

module.exports = { formatReport };
