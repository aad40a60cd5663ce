// The printed report: one table per case and load mode, ratios to the anchors, then the targets.
const { KEEP_ALIVE, IDLE } = require('./targets');

/** Ratio columns per case: the framework routes against uWS and Fastify, everything else against node:http. */
function anchorsFor(caseId) {
  return caseId === 'hello-name' || caseId === 'user' ? ['uws', 'fastify'] : ['node-http'];
}

/**
 * The C responders: their CPU per request is the kernel's share (c-floor for small answers,
 * c-sendfile for large ones), shown as a last column when measured.
 */
const FLOORS = ['c-floor', 'c-sendfile'];

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

function loadTable(cases, anchors) {
  const header = ['server', 'req/s', 'p50', 'p99', 'CPU µs/req'];
  for (const anchor of anchors) header.push(`req/s ×${anchor}`, `p99 ×${anchor}`, `CPU ×${anchor}`);
  const floor = cases.find((other) => FLOORS.includes(other.server));
  if (floor) header.push(`CPU ×${floor.server}`);
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

function idleTable(cases) {
  const kib = (bytes) => (bytes === null ? '–' : integer.format(bytes / 1024));
  const node = cases.find((other) => other.server === 'node-http');
  const rows = cases.map((measured) => [
    measured.server + (measured.problems ? ' (!)' : ''),
    integer.format(measured.open),
    kib(measured.rssBefore),
    kib(measured.rssWith),
    measured.bytesPerConnection === null ? '–' : integer.format(measured.bytesPerConnection),
    ratio(measured.bytesPerConnection, node?.bytesPerConnection),
  ]);
  return alignedTable(['server', 'open', 'RSS before KiB', 'RSS with KiB', 'bytes/connection', '×node-http'], rows);
}

/** The whole report as text. */
function formatReport({ results, skipped, targets, settings }) {
  const out = [];
  const groups = new Map();
  for (const measured of results) {
    const key = `${measured.case}\u0000${measured.mode}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(measured);
  }
  const rounds = settings.rounds > 1 ? ` (medians of ${settings.rounds} rounds)` : '';
  for (const cases of groups.values()) {
    const { title, mode, pipeline, connections } = cases[0];
    if (mode === IDLE) {
      out.push('', `${title}: resident memory before and with them open${rounds}`);
      out.push(idleTable(cases));
      continue;
    }
    const load = mode === KEEP_ALIVE ? 'keep-alive' : `pipelined, ${pipeline} requests per write`;
    out.push('', `${title} — ${load}, ${connections} connections, ${settings.duration} s${rounds}, ${settings.tool}`);
    out.push(loadTable(cases, anchorsFor(cases[0].case)));
  }
  const problems = results.filter((measured) => measured.problems);
  if (problems.length > 0) {
    out.push('', '(!) not every measurement was clean:');
    for (const measured of problems) out.push(`  ${measured.server} ${measured.case} ${measured.mode}: ${measured.problems}`);
  }
  if (skipped.length > 0) {
    out.push('', 'Not measured:');
    for (const entry of skipped) out.push(`  ${entry.server}: ${entry.why}`);
  }
  if (targets.length > 0) out.push('', 'Targets (from issues 3, 4, 5 and 13; benchmark figures, not tests):');
  for (const target of targets) {
    const detail = target.verdict === 'n/a' ? 'not measured in this run' : `×${target.ratio.toFixed(3)} (${target.measured})`;
    out.push(`  [${target.verdict.padEnd(6)}] ${target.description}: ${detail}`);
  }
  return out.join('\n');
}

module.exports = { formatReport };
