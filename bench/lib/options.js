// Command-line options of `npm run bench -- [options]`.
const { parseArgs } = require('node:util');

const USAGE = `Usage: npm run bench -- [options]
  -d, --duration <s>     seconds measured per case (default 8)
  -w, --warmup <s>       seconds of unmeasured load per server and path first (default 2)
  -r, --rounds <n>       measure each case n times and keep the medians (default 1)
  -c, --connections <n>  concurrent connections (default 64)
  -p, --pipeline <n>     requests per write in the pipelined runs; 0 or 1 skips them (default 16)
  -s, --servers <a,b>    only these servers (default all; names as in bench/servers/)
  -t, --tool <name>      wrk or autocannon (default wrk, autocannon when wrk cannot be had)
  -h, --help             this text`;

function integer(name, text, min) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got ${text}`);
  return value;
}

/** The run's settings from argv; throws with a message on bad input. */
function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', short: 'd', default: '8' },
      warmup: { type: 'string', short: 'w', default: '2' },
      rounds: { type: 'string', short: 'r', default: '1' },
      connections: { type: 'string', short: 'c', default: '64' },
      pipeline: { type: 'string', short: 'p', default: '16' },
      servers: { type: 'string', short: 's' },
      tool: { type: 'string', short: 't' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.tool !== undefined && values.tool !== 'wrk' && values.tool !== 'autocannon') {
    throw new Error(`--tool must be wrk or autocannon, got ${values.tool}`);
  }
  return {
    help: values.help,
    duration: integer('duration', values.duration, 1),
    warmup: integer('warmup', values.warmup, 0),
    rounds: integer('rounds', values.rounds, 1),
    connections: integer('connections', values.connections, 1),
    pipeline: integer('pipeline', values.pipeline, 0),
    servers: values.servers === undefined ? null : values.servers.split(',').map((s) => s.trim()).filter(Boolean),
    tool: values.tool ?? null,
  };
}

module.exports = { parseOptions, USAGE };
