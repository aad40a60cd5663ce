// The memory an idle keep-alive connection costs a server: the resident memory of a freshly
// started copy of it (warmed up briefly, so its code is compiled), before and with `count`
// connections open, each answered once and now idle (lib/idle-client.js, on the load core). A
// fresh process, because one that has served the other cases holds freed memory that the new
// connections' allocations would reuse unseen. The difference per connection is what the server
// keeps for each.
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const { LOAD_CORE, pinned } = require('./pin');
const { ServerProcess } = require('./server-process');

const CLIENT = path.join(__dirname, 'idle-client.js');
/** Time for the server to finish its work for the last connections before its memory is read. */
const SETTLE_MS = 1000;
const OPEN_TIMEOUT_MS = 60_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * { connections, open, failed, openMs, rssBefore, rssWith, bytesPerConnection, closedMeanwhile }
 * for a fresh process of `definition` (a server of lib/catalogue.js) and `count` connections
 * asking for `testCase`'s path; `warmUp(running)` loads it briefly first.
 */
async function measureIdle(definition, testCase, count, warmUp) {
  const server = await ServerProcess.start(definition);
  try {
    await server.check([testCase]);
    await warmUp(server);
    return await holdIdle(server, testCase.url, count);
  } finally {
    await server.stop();
  }
}

async function holdIdle(server, requestPath, count) {
  await sleep(SETTLE_MS);
  const rssBefore = server.residentBytes();
  const [command, args] = pinned(LOAD_CORE, process.execPath, [CLIENT, String(server.port), requestPath, String(count)]);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const timer = sleep(OPEN_TIMEOUT_MS).then(() => ({ done: true }));
    const { value, done } = await Promise.race([lines.next(), timer]);
    if (done) throw new Error(`the idle client gave no answer within ${OPEN_TIMEOUT_MS / 1000} s`);
    return JSON.parse(value);
  };
  try {
    const opened = await next();
    await sleep(SETTLE_MS);
    const rssWith = server.residentBytes();
    child.stdin.write('status\n');
    const still = await next();
    return {
      connections: count,
      open: opened.open,
      failed: opened.failed,
      openMs: opened.ms,
      rssBefore,
      rssWith,
      bytesPerConnection: opened.open > 0 ? (rssWith - rssBefore) / opened.open : null,
      closedMeanwhile: opened.open - still.open,
    };
  } finally {
    child.stdin.end();
    await new Promise((resolve) => {
      if (child.exitCode !== null) resolve();
      else child.once('exit', resolve);
    });
  }
}

module.exports = { measureIdle };
