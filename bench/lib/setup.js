// First-use set-up: bench/'s own npm dependencies, and a load generator (wrk, else autocannon).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const BENCH_DIR = path.resolve(__dirname, '..');

function run(command, args, options = {}) {
  return spawnSync(command, args, { stdio: 'inherit', ...options }).status === 0;
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Installs bench/package.json's dependencies when any of them is missing. */
function ensureDependencies() {
  const { dependencies } = JSON.parse(fs.readFileSync(path.join(BENCH_DIR, 'package.json'), 'utf8'));
  const missing = Object.keys(dependencies).filter(
    (name) => !fs.existsSync(path.join(BENCH_DIR, 'node_modules', name, 'package.json')),
  );
  if (missing.length === 0) return;
  console.log(`bench: installing the benchmark's dependencies (${missing.join(', ')} missing)…`);
  if (!run('npm', ['install', '--no-audit', '--no-fund'], { cwd: BENCH_DIR })) {
    throw new Error('npm install in bench/ failed');
  }
}

/** wrk from Debian's packages when it is not installed yet; false when that is not possible. */
function ensureWrk() {
  if (onPath('wrk')) return true;
  if (process.platform !== 'linux' || !onPath('apt-get')) return false;
  console.log('bench: wrk is missing; installing it with apt-get…');
  const asRoot = process.getuid?.() === 0;
  const apt = (...args) => (asRoot ? run('apt-get', args) : run('sudo', ['-n', 'apt-get', ...args]));
  return apt('update') && apt('install', '-y', 'wrk') && onPath('wrk');
}

/** The load generator to use: the one asked for, else wrk when it can be had, else autocannon. */
function chooseTool(requested) {
  if (requested === 'autocannon') return 'autocannon';
  if (ensureWrk()) return 'wrk';
  if (requested === 'wrk') throw new Error('wrk was asked for but is not installed and could not be installed');
  console.log('bench: wrk could not be installed; falling back to autocannon');
  return 'autocannon';
}

module.exports = { BENCH_DIR, ensureDependencies, chooseTool, onPath };
