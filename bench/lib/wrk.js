// wrk as the load generator: one thread, pinned to the load core, `--latency` for percentiles.
const path = require('node:path');
const { capture } = require('./exec');
const { bodyFile } = require('./fixtures');
const { LOAD_CORE, pinned } = require('./pin');

const REQUEST_SCRIPT = path.join(__dirname, 'requests.lua');
const MS_PER_UNIT = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };

/** wrk's durations ("412.00us", "1.20ms", "10.00s") in milliseconds. */
function milliseconds(text) {
  const match = /^([\d.]+)(ns|us|ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`wrk: unreadable duration "${text}"`);
  return Number(match[1]) * MS_PER_UNIT[match[2]];
}

function field(output, pattern, what) {
  const match = pattern.exec(output);
  if (!match) throw new Error(`wrk: no ${what} in its output:\n${output}`);
  return match;
}

/** A latency percentile in ms; wrk prints 0 when it failed to compute one (seen at 99% under
 * pipelining), which is no latency at all, so that becomes null: not measured. */
function percentile(output, pattern, what) {
  const value = milliseconds(field(output, pattern, what)[1]);
  return value > 0 ? value : null;
}

/** The figures of one wrk run, from its text report. */
function parseReport(output) {
  const total = field(output, /(\d+) requests in ([\d.]+\w+),/, 'request count');
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const requests = Number(total[1]);
  const seconds = milliseconds(total[2]) / 1000;
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50Ms: percentile(output, /^\s*50(?:\.0+)?%\s+(\S+)/m, 'p50 latency'),
    p99Ms: percentile(output, /^\s*99(?:\.0+)?%\s+(\S+)/m, 'p99 latency'),
    errors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    errorKinds: errors ? { connect: Number(errors[1]), read: Number(errors[2]), write: Number(errors[3]), timeout: Number(errors[4]) } : {},
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

/** The script's arguments for a request with a body: its method, type, and a file holding it. */
function bodyArguments(request) {
  return request?.body === undefined ? [] : [request.method, request.contentType, bodyFile(request)];
}

/**
 * Loads `url` for `seconds` over `connections`, `pipeline` requests per write when > 1, with
 * `request`'s method and body when it has one (a case of lib/cases.js).
 */
async function measure({ url, connections, seconds, pipeline, request }) {
  const scriptArgs = bodyArguments(request);
  const script = pipeline > 1 || scriptArgs.length > 0 ? ['-s', REQUEST_SCRIPT] : [];
  const trailing = script.length > 0 ? ['--', String(Math.max(1, pipeline)), ...scriptArgs] : [];
  const [command, args] = pinned(LOAD_CORE, 'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...script, url, ...trailing]);
  const { code, stdout, stderr } = await capture(command, args, (seconds + 60) * 1000);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${stderr.trim() || stdout.trim()}`);
  return parseReport(stdout);
}

module.exports = { measure, parseReport };
