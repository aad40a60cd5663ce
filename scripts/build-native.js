#!/usr/bin/env node
// Builds the Rust addon from source for this machine (the development build) with @napi-rs/cli,
// into native/pyre.<suffix>.node: the name the loader looks for first (src/engine/loader.ts).
// Release binaries for other platforms: scripts/platforms/build.js.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { TARGETS } = require('./platforms/targets');

const root = path.join(__dirname, '..');

function fail(message, status = 1) {
  console.error(`pyre: ${message}`);
  process.exit(status);
}

let host;
try {
  host = execFileSync('rustc', ['-vV'], { encoding: 'utf8' }).match(/^host: (\S+)$/m)[1];
} catch {
  fail('building the native addon needs Rust (cargo) 1.80 or newer: https://rustup.rs');
}
const target = TARGETS.find((t) => t.triple === host);
if (!target) fail(`no platform package is named for the Rust host ${host}; known: ${TARGETS.map((t) => t.triple).join(', ')}`);

const cli = path.join(path.dirname(require.resolve('@napi-rs/cli/package.json', { paths: [root] })), 'dist', 'cli.js');
const args = [
  cli, 'build', '--release', '--no-js',
  '--manifest-path', 'native/Cargo.toml',
  '--package-json-path', 'package.json',
  '--output-dir', 'native',
];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) fail('building the native addon failed. It needs Rust (cargo) 1.80 or newer: https://rustup.rs', result.status ?? 1);
fs.renameSync(path.join(root, 'native', 'pyre.node'), path.join(root, 'native', `pyre.${target.suffix}.node`));
