// Server on core 0, load generator on core 1: each process gets a core of its own. Both run with
// their open-file limit raised to the hard limit, for the cases with thousands of connections.
const { execFileSync } = require('node:child_process');
const os = require('node:os');
const { onPath } = require('./setup');

const SERVER_CORE = 0;
const LOAD_CORE = 1;

const canPin = process.platform === 'linux' && os.availableParallelism() >= 2 && onPath('taskset');

/** The hard limit on open files a child can raise its own limit to ('unlimited' as Infinity). */
const FILE_LIMIT = (() => {
  const text = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  return text === 'unlimited' ? Infinity : Number(text);
})();

/** [command, args] that run `command args` on `core` when pinning is possible, with the file limit raised. */
function pinned(core, command, args) {
  const [program, programArgs] = canPin ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
  return ['sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', program, ...programArgs]];
}

module.exports = { SERVER_CORE, LOAD_CORE, FILE_LIMIT, canPin, pinned };
