// `node bench/charts.js [results.json] [--out dir]`: the charts of a saved run, drawn again (the
// latest run in bench/results/ by default, into its own folder by default). README's charts in
// docs/bench/ are made this way: `node bench/charts.js --out docs/bench`.
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { writeCharts } = require('./lib/charts');

const RESULTS = path.join(__dirname, 'results');

function latestRun() {
  const runs = fs.existsSync(RESULTS) ? fs.readdirSync(RESULTS).filter((name) => name.endsWith('.json')).sort() : [];
  if (runs.length === 0) throw new Error('no saved run in bench/results/: run `npm run bench` first');
  return path.join(RESULTS, runs.at(-1));
}

function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string', short: 'o' } } });
  const file = positionals[0] ?? latestRun();
  const out = values.out ?? file.replace(/\.json$/, '');
  for (const chart of writeCharts(JSON.parse(fs.readFileSync(file, 'utf8')), out)) console.log(`wrote ${path.relative(process.cwd(), chart)}`);
}

try {
  main();
} catch (err) {
  console.error(`bench/charts.js: ${err.message}`);
  process.exitCode = 1;
}
