// The servers under test, one file each in bench/servers/, and the cases each one answers.
const os = require('node:os');
const path = require('node:path');
const C = require('./cases');

const BODIES = [C.JSON_ECHO, C.UPLOAD];
const LARGE = [C.BUFFER_64K, C.BUFFER_1M, C.STREAM_64K, C.STREAM_1M];
const MANY = [C.HELLO_10K, C.IDLE_10K];

/**
 * In run order. `needs`: what of Pyre the server uses (export names, or 'pyre-http/register'); a server
 * whose needs are not built yet is skipped with the reason. A `.c` file is compiled on first use
 * (lib/c-build.js) and skipped when there is no C compiler. `pyre`: it runs on Pyre (the servers
 * --baseline runs a second time on another build).
 */
const SERVERS = [
  { name: 'c-floor', file: 'c-floor.c', cases: [C.HELLO, C.HELLO_NAME, C.USER, ...MANY], needs: [] },
  { name: 'c-sendfile', file: 'c-sendfile.c', cases: [...LARGE, C.STATIC_1M], needs: [] },
  { name: 'node-http', file: 'node-http.js', cases: [C.HELLO, ...BODIES, ...LARGE, ...MANY], needs: [] },
  { name: 'pyre-native', file: 'pyre-native.js', cases: [C.HELLO, ...BODIES, ...LARGE, ...MANY], needs: ['serve', 'HeaderBlock'], pyre: true },
  { name: 'uws', file: 'uws.js', cases: [C.HELLO, C.HELLO_NAME, C.USER, ...BODIES, ...LARGE, ...MANY], needs: [] },
  { name: 'fastify', file: 'fastify.js', cases: [C.HELLO, C.HELLO_NAME, C.USER, ...BODIES, ...LARGE, C.STATIC_1M], needs: [] },
  { name: 'express', file: 'express.js', cases: [C.HELLO, C.STATIC_1M], needs: [] },
  { name: 'express-app', file: 'express-app.js', cases: [C.APP_GET, C.APP_POST], needs: [] },
  { name: 'pyre-compat', file: 'pyre-compat.js', cases: [C.HELLO, ...BODIES, ...LARGE, ...MANY], needs: ['createServer'], pyre: true },
  // pyre-compat's handler through `pyre serve`, then with its access log on (written to a file
  // in the system's temporary directory): the command's cost, and the log's, per request.
  { name: 'pyre-serve', file: 'pyre-serve.js', cases: [C.HELLO], needs: ['createServer'] },
  { name: 'pyre-serve-log', file: 'pyre-serve.js', env: { ACCESS_LOG: path.join(os.tmpdir(), 'pyre-bench-access.log') }, cases: [C.HELLO], needs: ['createServer'] },
  { name: 'fastify-pyre', file: 'fastify-pyre.js', cases: [C.HELLO, ...BODIES, ...LARGE, C.STATIC_1M], needs: ['createServer'], pyre: true },
  { name: 'express-pyre', file: 'express-pyre.js', cases: [C.HELLO, C.STATIC_1M], needs: ['pyre-http/register'], pyre: true },
  { name: 'express-app-pyre', file: 'express-app-pyre.js', cases: [C.APP_GET, C.APP_POST], needs: ['pyre-http/register'], pyre: true },
  { name: 'framework-pyre', file: 'framework-pyre.ts', cases: [C.HELLO, C.HELLO_NAME, C.USER, ...BODIES, ...LARGE, C.STATIC_1M, ...MANY], needs: ['App', 'Blueprint', 'endpoint'], pyre: true },
  { name: 'framework-async', file: 'framework-async.ts', cases: [C.HELLO_NAME, C.USER], needs: ['App', 'Blueprint', 'endpoint'], pyre: true },
  { name: 'framework-node', file: 'framework-node.ts', cases: [C.STATIC_1M], needs: ['App', 'Blueprint', 'endpoint'] },
];

/** The suffix of a server run on the --baseline build. */
const BASELINE_SUFFIX = '@baseline';

/**
 * The servers named in `filter` (all when null), each with only the cases named in `caseFilter`
 * (all when null); servers left with no case are dropped. Unknown names are an error.
 */
function selectServers(filter, caseFilter = null) {
  const unknown = (filter ?? []).filter((name) => !SERVERS.some((server) => server.name === name));
  if (unknown.length > 0) throw new Error(`unknown server ${unknown.join(', ')}; known: ${SERVERS.map((s) => s.name).join(', ')}`);
  const unknownCases = (caseFilter ?? []).filter((id) => !C.CASES.some((c) => c.id === id));
  if (unknownCases.length > 0) throw new Error(`unknown case ${unknownCases.join(', ')}; known: ${C.CASES.map((c) => c.id).join(', ')}`);
  return SERVERS
    .filter((server) => filter === null || filter.includes(server.name))
    .map((server) => ({ ...server, cases: server.cases.filter((c) => caseFilter === null || caseFilter.includes(c.id)) }))
    .filter((server) => server.cases.length > 0);
}

const HELLO_WORLD = [C.HELLO, C.HELLO_NAME, C.USER];

/**
 * The Pyre servers again on the build in `root`, for their hello-world cases (what an older build
 * can answer): same files, PYRE_ROOT set, named `<name>@baseline`.
 */
function baselineTwins(servers, root) {
  return servers
    .filter((server) => server.pyre)
    .map((server) => ({
      ...server,
      name: `${server.name}${BASELINE_SUFFIX}`,
      cases: server.cases.filter((c) => HELLO_WORLD.includes(c)),
      env: { PYRE_ROOT: root },
      baselineOf: server.name,
    }))
    .filter((server) => server.cases.length > 0);
}

module.exports = { SERVERS, BASELINE_SUFFIX, selectServers, baselineTwins };
