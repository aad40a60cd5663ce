// The run's charts as SVG, written directly (no browser, no charting library): CPU per request,
// requests/s and latency, one small panel per case with one bar per server, each panel on its
// own scale (a 1 MiB file costs a hundred times a hello world). Pyre's servers are drawn in warm
// colours, the others in cool ones and the C references in grey; --baseline twins are paler.
const fs = require('node:fs');
const path = require('node:path');
const { KEEP_ALIVE, PIPELINED, IDLE } = require('./targets');

const COLOURS = {
  'c-floor': '#9a9a9a',
  'c-sendfile': '#9a9a9a',
  'node-http': '#3b6ea8',
  uws: '#4f9a4a',
  fastify: '#5aa6a0',
  express: '#8c6bb1',
  'express-app': '#8c6bb1',
  'framework-node': '#7f8fa6',
  'pyre-native': '#d62f2f',
  'pyre-compat': '#ec7a1c',
  'fastify-pyre': '#e0a800',
  'express-pyre': '#e8668f',
  'express-app-pyre': '#e8668f',
  'framework-pyre': '#b5452b',
  'framework-async': '#c97b50',
};

const PANEL_WIDTH = 440;
const LABEL_WIDTH = 128;
const BAR_SPACE = 232;
const ROW = 17;
const BAR = 12;
const COLUMNS = 2;
const GAP = 16;
const HEADER = 58;

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function colourOf(server) {
  const [name, build] = server.split('@');
  return { fill: COLOURS[name] ?? '#666666', opacity: build === undefined ? 1 : 0.45 };
}

function formatValue(value, unit) {
  if (value === null || value === undefined) return '–';
  if (unit === 'req/s') return value >= 10_000 ? `${Math.round(value / 1000)}k` : value >= 1000 ? `${(value / 1000).toFixed(1)}k` : `${Math.round(value)}`;
  if (unit === 'B') return value >= 10_000 ? `${(value / 1024).toFixed(1)} KiB` : `${Math.round(value)} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/**
 * One panel: a title, then per row a server name, a bar for `value` and its figure; `mark`, when
 * given, draws a tick at a second value on the same scale (p50 on the latency chart).
 */
function panel(x, y, title, rows, unit) {
  const max = Math.max(...rows.map((row) => row.value ?? 0), 1e-9);
  const parts = [`<text x="${x}" y="${y + 13}" class="title">${escape(title)}</text>`];
  rows.forEach((row, index) => {
    const top = y + 22 + index * ROW;
    const { fill, opacity } = colourOf(row.server);
    const width = row.value === null ? 0 : Math.max(1, (row.value / max) * BAR_SPACE);
    parts.push(`<text x="${x + LABEL_WIDTH - 6}" y="${top + BAR - 2}" class="label">${escape(row.server)}</text>`);
    parts.push(`<rect x="${x + LABEL_WIDTH}" y="${top}" width="${width.toFixed(1)}" height="${BAR}" fill="${fill}" fill-opacity="${opacity}"/>`);
    if (row.mark !== undefined && row.mark !== null) {
      const at = x + LABEL_WIDTH + (row.mark / max) * BAR_SPACE;
      parts.push(`<line x1="${at.toFixed(1)}" y1="${top - 2}" x2="${at.toFixed(1)}" y2="${top + BAR + 2}" class="mark"/>`);
    }
    parts.push(`<text x="${x + LABEL_WIDTH + width + 4}" y="${top + BAR - 2}" class="value">${escape(formatValue(row.value, unit))}</text>`);
  });
  return { svg: parts.join('\n'), height: 22 + rows.length * ROW + 8 };
}

/** The panels' measurements: keep-alive of every case, the hello cases pipelined, the idle case. */
function panelGroups(results, modes) {
  const groups = new Map();
  for (const result of results) {
    if (!modes.includes(result.mode)) continue;
    const key = `${result.case}\u0000${result.mode}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(result);
  }
  return [...groups.values()];
}

function panelTitle(group) {
  const { title, mode, pipeline } = group[0];
  if (mode === PIPELINED) return `${title}, pipelined ×${pipeline}`;
  if (mode === IDLE) return `${title}: RSS per connection`;
  return title;
}

/** A whole chart: header lines, then the panels in COLUMNS columns, each column filled top-down in turn. */
function chart({ title, subtitle, panels }) {
  const columns = Array.from({ length: COLUMNS }, () => ({ height: 0, parts: [] }));
  for (const entry of panels) {
    const column = columns.reduce((low, current) => (current.height < low.height ? current : low));
    const x = GAP + columns.indexOf(column) * (PANEL_WIDTH + GAP);
    const drawn = panel(x, HEADER + column.height, entry.title, entry.rows, entry.unit);
    column.parts.push(drawn.svg);
    column.height += drawn.height + GAP;
  }
  const width = GAP + COLUMNS * (PANEL_WIDTH + GAP);
  const height = HEADER + Math.max(...columns.map((column) => column.height)) + GAP;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">
<style>
.heading { font-size: 16px; font-weight: bold; fill: #222; }
.subtitle { font-size: 11px; fill: #555; }
.title { font-size: 12px; font-weight: bold; fill: #333; }
.label { font-size: 10.5px; fill: #333; text-anchor: end; }
.value { font-size: 10px; fill: #444; }
.mark { stroke: #111; stroke-width: 1.5; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="${GAP}" y="24" class="heading">${escape(title)}</text>
<text x="${GAP}" y="42" class="subtitle">${escape(subtitle)}</text>
${columns.flatMap((column) => column.parts).join('\n')}
</svg>
`;
}

function subtitleOf(run) {
  const { machine, settings, date } = run;
  const rounds = settings.rounds > 1 ? `, medians of ${settings.rounds} rounds` : '';
  return `${date.slice(0, 10)} · ${machine.cpu}, ${machine.cores} cores, Linux ${machine.kernel}, node ${machine.node} · `
    + `server on core 0, wrk -t1 on core 1, ${settings.connections} connections unless stated, ${settings.duration} s per case${rounds}`;
}

/** The three charts of a run (saved JSON or live), as { name: svg text }. */
function renderCharts(run) {
  const subtitle = subtitleOf(run);
  const loaded = panelGroups(run.results, [KEEP_ALIVE, PIPELINED]);
  const idle = panelGroups(run.results, [IDLE]);
  const rowsOf = (group, figure, mark) => group.map((result) => ({ server: result.server, value: result[figure], mark: mark && result[mark] }));
  return {
    'cpu.svg': chart({
      title: 'Server CPU per request (µs, lower is better) — and memory per idle connection',
      subtitle,
      panels: [
        ...loaded.map((group) => ({ title: panelTitle(group), rows: rowsOf(group, 'cpuUsPerRequest'), unit: 'µs' })),
        ...idle.map((group) => ({ title: panelTitle(group), rows: rowsOf(group, 'bytesPerConnection'), unit: 'B' })),
      ],
    }),
    'rps.svg': chart({
      title: 'Requests per second (higher is better; one wrk thread tops out near 150–170k)',
      subtitle,
      panels: loaded.map((group) => ({ title: panelTitle(group), rows: rowsOf(group, 'rps'), unit: 'req/s' })),
    }),
    'latency.svg': chart({
      title: 'Latency: p99 bars, p50 ticks (ms, lower is better)',
      subtitle,
      panels: loaded.filter((group) => group[0].mode === KEEP_ALIVE)
        .map((group) => ({ title: panelTitle(group), rows: rowsOf(group, 'p99Ms', 'p50Ms'), unit: 'ms' })),
    }),
  };
}

/** Writes the charts of `run` into `dir`; returns their paths. */
function writeCharts(run, dir) {
  fs.mkdirSync(dir, { recursive: true });
  return Object.entries(renderCharts(run)).map(([name, svg]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, svg);
    return file;
  });
}

module.exports = { renderCharts, writeCharts };
