// `pyre serve` in one process (its default: no fork) with node-http.js's handler as the entry.
// Beside pyre-compat.js, which serves the very same handler with createServer itself, this is
// what the command costs per request; ACCESS_LOG set (pyre-serve-log): with --access-log to it.
const path = require('node:path');
const { root } = require('../lib/pyre');

const main = path.join(root, 'dist/src/cli/main.js');
const args = ['serve', path.join(__dirname, 'node-http.js'), '--port', process.env.PORT, '--host', '127.0.0.1'];
if (process.env.ACCESS_LOG) args.push(`--access-log=${process.env.ACCESS_LOG}`);
process.argv = [process.argv[0], main, ...args];
require(main);
