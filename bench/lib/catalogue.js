// The servers under test, one file each in bench/servers/, and the paths each one answers.

/** What a path's request is and the exact answer every server must give before it is loaded. */
const HELLO = { route: '/', url: '/', type: 'text/plain', body: 'Hello, World!' };
const HELLO_NAME = { route: '/hello/:name', url: '/hello/world', type: 'text/plain', body: 'Hello, world!' };
const USER = { route: '/users/:id', url: '/users/42', type: 'application/json', body: '{"id":42,"name":"User 42"}' };

/**
 * In run order. `needs`: what of Pyre the server uses (export names, or 'pyre-http/register'); a server
 * whose needs are not built yet is skipped with the reason. A `.c` file is compiled on first use
 * (lib/c-build.js) and skipped when there is no C compiler.
 */
const SERVERS = [
  { name: 'c-floor', file: 'c-floor.c', paths: [HELLO, HELLO_NAME, USER], needs: [] },
  { name: 'node-http', file: 'node-http.js', paths: [HELLO], needs: [] },
  { name: 'pyre-native', file: 'pyre-native.js', paths: [HELLO], needs: ['serve', 'HeaderBlock'] },
  { name: 'uws', file: 'uws.js', paths: [HELLO, HELLO_NAME, USER], needs: [] },
  { name: 'fastify', file: 'fastify.js', paths: [HELLO, HELLO_NAME, USER], needs: [] },
  { name: 'express', file: 'express.js', paths: [HELLO], needs: [] },
  { name: 'pyre-compat', file: 'pyre-compat.js', paths: [HELLO], needs: ['createServer'] },
  { name: 'fastify-pyre', file: 'fastify-pyre.js', paths: [HELLO], needs: ['createServer'] },
  { name: 'express-pyre', file: 'express-pyre.js', paths: [HELLO], needs: ['pyre-http/register'] },
  { name: 'framework-pyre', file: 'framework-pyre.ts', paths: [HELLO_NAME, USER], needs: ['App', 'Blueprint', 'endpoint'] },
];

/** The servers named in `filter` (all when null); unknown names are an error. */
function selectServers(filter) {
  if (filter === null) return SERVERS;
  const unknown = filter.filter((name) => !SERVERS.some((server) => server.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown server ${unknown.join(', ')}; known: ${SERVERS.map((s) => s.name).join(', ')}`);
  }
  return SERVERS.filter((server) => filter.includes(server.name));
}

module.exports = { SERVERS, HELLO, HELLO_NAME, USER, selectServers };
