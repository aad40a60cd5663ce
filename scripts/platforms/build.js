// Builds the addon for other platforms than the host's development build, each with the
// toolchain its entry in targets.js names (installed on first use by tools.js).
//
//   node scripts/platforms/build.js [--out DIR] <triple> ...   (default DIR: native/)
//   node scripts/platforms/build.js --list                      the triples buildable here
//
// Each binary is written as DIR/pyre.<suffix>.node (the name its platform package carries and the
// loader looks for). Builds go to a cargo target directory in the tools cache, apart from the
// development build: a fresh clone (CI's) rebuilds only the crate itself, not std and the deps.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { buildableHere, target } = require('./targets');
const { CACHE } = require('./tools');

const root = path.join(__dirname, '..', '..');
const TARGET_DIR = path.join(CACHE, 'target');

/** The cdylib's file name as the linker writes it for a target. */
function artifactName(triple) {
  if (triple.includes('-windows-')) return 'pyre_native.dll';
  if (triple.includes('-apple-')) return 'libpyre_native.dylib';
  return 'libpyre_native.so';
}

/** The environment variable cargo reads a per-target setting from (CARGO_TARGET_<TRIPLE>_<KEY>). */
function targetEnv(triple, key) {
  return `CARGO_TARGET_${triple.toUpperCase().replace(/[-.]/g, '_')}_${key}`;
}

/** Runs cargo for a target built here, with its toolchain; returns spawnSync's result. */
function cargo(triple, args, options = {}) {
  const t = target(triple);
  if (!t.hosts.includes(process.platform)) throw new Error(`${triple} is built on ${t.hosts.join(' or ')} (the hosted CI's runners), not on ${process.platform}`);
  const chain = t.toolchain();
  const env = { ...process.env, CARGO_TARGET_DIR: TARGET_DIR };
  if (chain.rustc) env.RUSTC = chain.rustc;
  if (chain.linker) env[targetEnv(triple, 'LINKER')] = chain.linker;
  if (chain.rustflags?.length) env[targetEnv(triple, 'RUSTFLAGS')] = chain.rustflags.join(' ');
  Object.assign(env, chain.env);
  const full = [...args, '--locked', '--manifest-path', path.join(root, 'native', 'Cargo.toml'), '--target', triple];
  if (chain.buildStd) {
    env.RUSTC_BOOTSTRAP = '1';
    full.push('-Zbuild-std=std,panic_abort');
  }
  process.stderr.write(`platforms: cargo ${args[0]} ${triple} (${chain.buildStd ? 'build-std, ' : ''}linker ${chain.linker ?? 'default'})\n`);
  const result = spawnSync(chain.cargo, full, { env, stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`cargo ${args[0]} for ${triple} failed (cargo exit ${result.status ?? result.signal})`);
  return result;
}

/** Builds one target; returns the path of the .node file written into outDir. */
function buildTarget(triple, outDir = path.join(root, 'native')) {
  cargo(triple, ['build', '--release']);
  const built = path.join(TARGET_DIR, triple, 'release', artifactName(triple));
  const out = path.join(outDir, `pyre.${target(triple).suffix}.node`);
  fs.mkdirSync(outDir, { recursive: true });
  fs.copyFileSync(built, out);
  return out;
}

/** Builds the crate's unit tests for a target (to run under that platform's runner); returns the test executable. */
function buildUnitTests(triple) {
  const result = cargo(triple, ['test', '--no-run', '--message-format=json-render-diagnostics'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const artifact = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line))
    .find((m) => m.reason === 'compiler-artifact' && m.executable && m.profile.test);
  if (!artifact) throw new Error(`cargo test --no-run for ${triple} named no test executable`);
  return artifact.executable;
}

module.exports = { buildTarget, buildUnitTests };

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--list') {
    console.log(buildableHere().join('\n'));
    process.exit(0);
  }
  let outDir;
  if (argv[0] === '--out') {
    outDir = path.resolve(argv[1]);
    argv.splice(0, 2);
  }
  if (argv.length === 0) {
    console.error(`usage: node scripts/platforms/build.js [--out DIR] <triple> ...\nbuildable here: ${buildableHere().join(', ')}`);
    process.exit(2);
  }
  try {
    for (const triple of argv) console.log(buildTarget(triple, outDir));
  } catch (err) {
    console.error(`platforms: ${err.message}`);
    process.exit(1);
  }
}
