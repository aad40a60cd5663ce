#!/usr/bin/env node
// Builds the Rust addon from source into native/pyre.<platform>.node with @napi-rs/cli.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const cli = path.join(path.dirname(require.resolve('@napi-rs/cli/package.json', { paths: [root] })), 'dist', 'cli.js');
const args = [
  cli, 'build', '--platform', '--release', '--no-js',
  '--manifest-path', 'native/Cargo.toml',
  '--package-json-path', 'package.json',
  '--output-dir', 'native',
];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('pyre: building the native addon failed. It needs Rust (cargo) 1.80 or newer: https://rustup.rs');
  process.exit(result.status ?? 1);
}
