// The C servers (bench/servers/*.c): compiled with `cc -O2` on first use into bench/.build/
// (gitignored), and again whenever the source is newer than the binary.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { BENCH_DIR, onPath } = require('./setup');

const BUILD_DIR = path.join(BENCH_DIR, '.build');
const COMPILE_TIMEOUT_MS = 60_000;

const isCServer = (server) => server.file.endsWith('.c');

/** Why `server` cannot be built here, or null when it can (or is not C). */
function cBlocker(server) {
  return isCServer(server) && !onPath('cc') ? 'no C compiler' : null;
}

/** The path of `source`'s binary, compiled now when it is missing or older than the source. */
function compiledBinary(source) {
  const binary = path.join(BUILD_DIR, path.basename(source, '.c'));
  const built = fs.existsSync(binary) ? fs.statSync(binary).mtimeMs : 0;
  if (built < fs.statSync(source).mtimeMs) {
    fs.mkdirSync(BUILD_DIR, { recursive: true });
    try {
      execFileSync('cc', ['-O2', '-Wall', '-o', binary, source], { encoding: 'utf8', stdio: 'pipe', timeout: COMPILE_TIMEOUT_MS });
    } catch (err) {
      throw Object.assign(new Error(`cc could not compile ${path.basename(source)}: ${(err.stderr || err.message).trim().split('\n')[0]}`),
        { output: err.stderr });
    }
  }
  return binary;
}

module.exports = { isCServer, cBlocker, compiledBinary };
