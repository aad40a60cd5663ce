// autocannon as the load generator, when wrk cannot be had: a node process on the load core.
const path = require('node:path');
const { capture } = require('./exec');
const { bodyFile } = require('./fixtures');
const { LOAD_CORE, pinned } = require('./pin');
const { BENCH_DIR } = require('./setup');

function autocannonScript() {
  const manifest = require.resolve('autocannon/package.json', { paths: [BENCH_DIR] });
  return path.join(path.dirname(manifest), require(manifest).bin.autocannon);
}

/**
 * Loads `url` for `seconds` over `connections`, `pipeline` requests in flight per connection,
 * with `request`'s method and body when it has one (a case of lib/cases.js).
 */
async function measure({ url, connections, seconds, pipeline, request }) {
  const body = request?.body === undefined ? []
    : ['-m', request.method, '-H', `content-type=${request.contentType}`, '-i', bodyFile(request)];
  const [command, args] = pinned(LOAD_CORE, process.execPath, [autocannonScript(),
    '--json', '-c', String(connections), '-d', String(seconds), '-p', String(Math.max(1, pipeline)), ...body, url]);
  const { code, stdout, stderr } = await capture(command, args, (seconds + 30) * 1000);
  if (code !== 0) throw new Error(`autocannon exited with ${code}: ${stderr.trim()}`);
  const report = JSON.parse(stdout);
  return {
    requests: report.requests.total,
    seconds: report.duration,
    rps: report.requests.total / report.duration,
    p50Ms: report.latency.p50,
    p99Ms: report.latency.p99,
    errors: report.errors + report.timeouts,
    errorKinds: { errors: report.errors, timeouts: report.timeouts },
    non2xx: report.non2xx,
  };
}

module.exports = { measure };
