// Command-line options of `npm run bench -- [options]`.
const path = require('node:path');
const { parseArgs } = require('node:util');

const USAGE = `Usage: npm run bench -- [options]
  -d, --duration <s>     seconds measured per case (default 5; 2 with --quick)
  -w, --warmup <s>       seconds of unmeasured load per server and case first (default 1)
  -r, --rounds <n>       measure each case n times and keep the medians (default 1)
  -c, --connections <n>  concurrent connections (default 64; the 10k cases use their own)
  -p, --pipeline <n>     requests per write in the pipelined runs of the hello cases; 0 or 1 skips
                         them (default 16; 0 with --quick)
  -s, --servers <a,b>    only these servers (default all; names as in bench/servers/)
  -k, --cases <a,b>      only these cases (default all; ids as in bench/lib/cases.js)
  -q, --quick            2 s per case, no pipelined runs, no 10k cases: a look in about 4 minutes
  -b, --baseline <dir>   also run the Pyre servers' hello-world cases on the build in <dir> (a
                         built checkout, e.g. of tag baseline-s4), as <name>@baseline, same run
  -t, --tool <name>      wrk or autocannon (default wrk, autocannon when wrk cannot be had)
  -h, --help             this text`;

/** The cases --quick leaves out: each holds 10,000 connections and takes longest. */
const SLOW_CASES = ['hello-10k', 'idle-10k'];

function integer(name, text, min) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got ${text}`);
  return value;
}

const list = (text) => (text === undefined ? null : text.split(',').map((s) => s.trim()).filter(Boolean));

/** The run's settings from argv; throws with a message on bad input. */
function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', short: 'd' },
      warmup: { type: 'string', short: 'w', default: '1' },
      rounds: { type: 'string', short: 'r', default: '1' },
      connections: { type: 'string', short: 'c', default: '64' },
      pipeline: { type: 'string', short: 'p' },
      servers: { type: 'string', short: 's' },
      cases: { type: 'string', short: 'k' },
      quick: { type: 'boolean', short: 'q', default: false },
      baseline: { type: 'string', short: 'b' },
      tool: { type: 'string', short: 't' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.tool !== undefined && values.tool !== 'wrk' && values.tool !== 'autocannon') {
    throw new Error(`--tool must be wrk or autocannon, got ${values.tool}`);
  }
  const quick = values.quick;
  let cases = list(values.cases);
  if (quick) cases = (cases ?? require('./cases').CASES.map((c) => c.id)).filter((id) => !SLOW_CASES.includes(id));
  return {
    help: values.help,
    quick,
    duration: integer('duration', values.duration ?? (quick ? '2' : '5'), 1),
    warmup: integer('warmup', values.warmup, 0),
    rounds: integer('rounds', values.rounds, 1),
    connections: integer('connections', values.connections, 1),
    pipeline: integer('pipeline', values.pipeline ?? (quick ? '0' : '16'), 0),
    servers: list(values.servers),
    cases,
    baseline: values.baseline === undefined ? null : path.resolve(values.baseline),
    tool: values.tool ?? null,
  };
}

module.exports = { parseOptions, USAGE };
