#!/usr/bin/env node
// `npm run test:node-suite`: node's own HTTP tests (test/parallel/test-http-*.js of Node 20) as
// the oracle for the drop-in. Each test runs under plain node and, if it passes there and starts
// an HTTP server, again with `-r pyre-http/register`; a test passes on Pyre when it exits 0 and
// a Pyre server really served it (probe.js counts the servers each process starts).
//
// The tests come from Debian's `nodejs` source package (Debian 13 ships 20.19.x), fetched with
// apt under a private sources list and state directory (the system's apt set-up is untouched)
// and cached in node_modules/.cache/node-suite. `--tree DIR` (or NODE_SUITE_TREE) uses any
// Node 20 source tree instead.
//
// Options: --jobs N (1 or 2; default 2), --timeout SECONDS (per run; default 30), --only REGEX
// (test file names), --json FILE (the summary; default node_modules/.cache/node-suite/summary.json),
// --list FILE (the failing tests as a markdown list).
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const cacheDir = path.join(root, 'node_modules', '.cache', 'node-suite');
const register = path.join(root, 'dist', 'src', 'register.js');
const probe = path.join(__dirname, 'probe.js');

/** Tests that reach into node's internals: they test node's implementation, not its API. */
const INTERNALS = /--expose-internals|\binternalBinding\b|process\.binding\(|require\(['"](?:internal\/|_http_)|\bHTTPParser\b|\.parser\b/;

function parseArgs(argv) {
  const options = { jobs: 2, timeout: 30, only: null, json: path.join(cacheDir, 'summary.json'), list: null, tree: process.env.NODE_SUITE_TREE ?? null };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--jobs': options.jobs = Math.min(2, Math.max(1, Number(value()) | 0)); break;
      case '--timeout': options.timeout = Number(value()); break;
      case '--only': options.only = new RegExp(value()); break;
      case '--json': options.json = path.resolve(value()); break;
      case '--list': options.list = path.resolve(value()); break;
      case '--tree': options.tree = path.resolve(value()); break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return options;
}

// ---- fetching the tests ----

function aptOptions(dir) {
  return [
    '-q', '-o', `Dir::Etc::SourceList=${path.join(dir, 'sources.list')}`, '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State=${path.join(dir, 'state')}`, '-o', `Dir::State::status=${path.join(dir, 'state', 'status')}`,
    '-o', `Dir::Cache=${path.join(dir, 'cache')}`, '-o', 'APT::Sandbox::User=root',
  ];
}

/** Debian 13's nodejs source tarball, unpacked to the parts the tests need; returns the tree. */
function fetchTree() {
  const existing = fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).find((name) => /^node-v20\./.test(name)) : undefined;
  if (existing !== undefined) return path.join(cacheDir, existing);
  const apt = path.join(cacheDir, 'apt');
  for (const dir of ['state/lists/partial', 'cache/archives/partial']) fs.mkdirSync(path.join(apt, dir), { recursive: true });
  fs.writeFileSync(path.join(apt, 'sources.list'),
    'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main\n');
  fs.writeFileSync(path.join(apt, 'state', 'status'), '');
  console.log('node-suite: fetching the nodejs source package (Debian 13) with apt, private state in', apt);
  execFileSync('apt-get', [...aptOptions(apt), 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const uris = execFileSync('apt-get', [...aptOptions(apt), 'source', '--print-uris', 'nodejs'], { encoding: 'utf8' });
  // 'URL' file size SHA256:hex — the main tarball, not the -component ones.
  const line = uris.split('\n').find((l) => /nodejs_20\.[^ ]*\.orig\.tar\.xz' /.test(l) && !/\.orig-/.test(l));
  if (line === undefined) throw new Error(`no Node 20 source tarball among:\n${uris}`);
  const [, url, file, , hash] = /^'([^']+)' (\S+) (\d+) (\S+)/.exec(line);
  const tarball = path.join(apt, file);
  execFileSync('/usr/lib/apt/apt-helper', ['-o', 'APT::Sandbox::User=root', 'download-file', url, tarball, hash], { stdio: ['ignore', 'ignore', 'inherit'] });
  const top = execFileSync('tar', ['-tJf', tarball], { encoding: 'utf8', maxBuffer: 256 << 20 }).split('\n')[0].replace(/\/.*/, '');
  const partial = path.join(cacheDir, 'partial');
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  execFileSync('tar', ['-xJf', tarball, '-C', partial, '--wildcards',
    `${top}/test/parallel/test-http-*`, `${top}/test/common/*`, `${top}/test/fixtures/*`]);
  fs.renameSync(path.join(partial, top), path.join(cacheDir, top));
  fs.rmSync(partial, { recursive: true, force: true });
  fs.rmSync(tarball);
  return path.join(cacheDir, top);
}

// ---- running ----

function testFlags(source) {
  const match = /\/\/ Flags:\s+(--.*)/.exec(source.slice(0, 1500));
  return match === null ? [] : match[1].trim().split(/\s+/);
}

/** One run of `file` under node with `preloads`: exit status, output tail, servers started. */
function runOnce(tree, file, flags, preloads, timeoutMs, worker) {
  return new Promise((resolve) => {
    const probeFile = path.join(os.tmpdir(), `node-suite-${process.pid}-${worker}-${crypto.randomBytes(4).toString('hex')}`);
    const args = [...flags, ...preloads.flatMap((p) => ['-r', p]), path.join(tree, 'test', 'parallel', file)];
    const child = spawn(process.execPath, args, {
      cwd: tree,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYRE_NODE_SUITE_PROBE: probeFile, TEST_THREAD_ID: String(worker)},
    });
    let output = '';
    const collect = (chunk) => {
      output = (output + chunk).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Whatever the test left behind in its process group goes too.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      const servers = { node: 0, pyre: 0 };
      try {
        for (const line of fs.readFileSync(probeFile, 'utf8').split('\n').filter(Boolean)) {
          const counted = JSON.parse(line);
          servers.node += counted.node;
          servers.pyre += counted.pyre;
        }
        fs.rmSync(probeFile);
      } catch {
        // No count written: the process died before its exit handlers.
      }
      resolve({ ok: code === 0 && !timedOut, code, signal, timedOut, output, servers });
    });
  });
}

function failureReason(run) {
  if (run.timedOut) return 'timed out';
  if (run.signal) return `killed by ${run.signal}`;
  const lines = run.output.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('at ') && !/^\^+$/.test(l));
  const at = lines.findIndex((l) => /\b\w*Error\b|^Mismatched /.test(l));
  const error = at === -1 ? lines.slice(-1) : lines.slice(at, at + 3);
  return `exit ${run.code}: ${error.join(' | ').slice(0, 240)}`;
}

async function classify(tree, file, options, worker) {
  const source = fs.readFileSync(path.join(tree, 'test', 'parallel', file), 'utf8');
  if (INTERNALS.test(source)) return { file, result: 'n/a' };
  const flags = testFlags(source);
  const timeoutMs = options.timeout * 1000;
  const node = await runOnce(tree, file, flags, [probe], timeoutMs, worker);
  if (node.servers.node === 0) return { file, result: 'no-server' };
  if (!node.ok) return { file, result: 'node-fail', reason: failureReason(node) };
  const pyre = await runOnce(tree, file, flags, [register, probe], timeoutMs, worker);
  if (!pyre.ok) return { file, result: 'fail', reason: failureReason(pyre), output: pyre.output };
  if (pyre.servers.pyre === 0) return { file, result: 'fail', reason: 'no Pyre server: every server it started was node\'s' };
  return { file, result: 'pass' };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(register)) throw new Error('no build: run `npm run build` first');
  const tree = options.tree ?? fetchTree();
  const files = fs.readdirSync(path.join(tree, 'test', 'parallel'))
    .filter((name) => /^test-http-.*\.js$/.test(name) && (options.only === null || options.only.test(name)))
    .sort();
  console.log(`node-suite: ${files.length} tests from ${path.relative(root, tree) || tree}, node ${process.version}, ${options.jobs} at a time`);
  const results = [];
  let next = 0;
  const started = Date.now();
  await Promise.all(Array.from({ length: options.jobs }, async (_, worker) => {
    while (next < files.length) {
      const file = files[next++];
      const result = await classify(tree, file, options, worker);
      results.push(result);
      if (result.result === 'fail') console.log(`FAIL ${file}  ${result.reason}`);
    }
  }));
  results.sort((a, b) => a.file.localeCompare(b.file));
  const by = (kind) => results.filter((r) => r.result === kind);
  const nodePass = by('pass').length + by('fail').length;
  const summary = {
    tree: path.basename(tree),
    node: process.version,
    seconds: Math.round((Date.now() - started) / 1000),
    tests: results.length,
    notApplicable: by('n/a').length,
    noServer: by('no-server').length,
    nodeFail: by('node-fail').length,
    nodePass,
    pyrePass: by('pass').length,
    rate: nodePass === 0 ? 0 : Math.round((by('pass').length / nodePass) * 1000) / 10,
    failing: by('fail').map(({ file, reason }) => ({ file, reason })),
    notApplicableTests: by('n/a').map((r) => r.file),
    nodeFailing: by('node-fail').map(({ file, reason }) => ({ file, reason })),
  };
  fs.mkdirSync(path.dirname(options.json), { recursive: true });
  fs.writeFileSync(options.json, `${JSON.stringify(summary, null, 2)}\n`);
  if (options.list) {
    fs.writeFileSync(options.list, summary.failing.map((f) => `- ${f.file}: ${f.reason}`).join('\n') + '\n');
  }
  console.log(`\nnode-suite: ${summary.tests} tests in ${summary.seconds} s: ${summary.notApplicable} n/a (node internals), `
    + `${summary.noServer} start no HTTP server, ${summary.nodeFail} fail on plain node`);
  console.log(`node-suite: node passes ${nodePass}; Pyre passes ${summary.pyrePass} of them (${summary.rate}%); failing ${summary.failing.length}`);
  console.log(`node-suite: summary in ${path.relative(process.cwd(), options.json)}`);
}

main().catch((err) => {
  console.error(`node-suite: ${err.message}`);
  process.exit(1);
});
