// Server on core 0, load generator on core 1: each process gets a core of its own.
const os = require('node:os');
const { onPath } = require('./setup');

const SERVER_CORE = 0;
const LOAD_CORE = 1;

const canPin = process.platform === 'linux' && os.availableParallelism() >= 2 && onPath('taskset');

/** [command, args] that run `command args` on `core` when pinning is possible. */
function pinned(core, command, args) {
  return canPin ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

module.exports = { SERVER_CORE, LOAD_CORE, canPin, pinned };
