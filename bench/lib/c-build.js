// The C servers (bench/servers/*.c): compiled with `cc -O2` on first use into bench/.build/
// (gitignored), and again whenever the source or a header beside it is newer than the binary.
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

/** The headers the C servers include (bench/servers/*.h): a change to one rebuilds them all. */
function headersMtime(dir) {
  return Math.max(0, ...fs.readdirSync(dir).filter((name) => name.endsWith('.h')).map((name) => fs.statSync(path.join(dir, name)).mtimeMs));
}

/** The path of `source`'s binary, compiled now when it is missing or older than its sources. */
function compiledBinary(source) {
  const binary = path.join(BUILD_DIR, path.basename(source, '.c'));
  const built = fs.existsSync(binary) ? fs.statSync(binary).mtimeMs : 0;
  if (built < Math.max(fs.statSync(source).mtimeMs, headersMtime(path.dirname(source)))) {
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
