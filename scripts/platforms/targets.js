// Every platform Pyre ships a binary for: its Rust target, the npm platform package that carries
// the binary (`pyre-http-<suffix>`, with the os/cpu/libc fields npm selects it by), the systems
// that build it (`hosts`, process.platform values) and how (`toolchain()` installs what the build
// needs and returns the cargo set-up). The Linux targets are all built on Linux x64, as here; the
// others on their own hosted runners (.github/workflows/platforms.yml).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const tools = require('./tools');

/** rustup's toolchain of the host, with its default linker. */
function native() {
  return { cargo: 'cargo' };
}

/** Whether rustup's toolchain has the target's std (`rustup target add`, as on the hosted runners). */
function rustupHas(triple) {
  try {
    const dir = execFileSync('rustc', ['--print', 'target-libdir', '--target', triple], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return fs.readdirSync(dir).some((f) => f.startsWith('libstd-'));
  } catch {
    return false;
  }
}

/**
 * The cargo set-up for a target other than the host: rustup's, if it has the target's std; else
 * (here, where rustup cannot fetch other targets) Debian's 1.96 compiler with `-Zbuild-std`.
 */
function crossStd(triple, linker, rustflags = []) {
  if (rustupHas(triple)) return { cargo: 'cargo', linker, rustflags };
  const { cargo, rustc } = tools.ensure('build-std');
  return { cargo, rustc, buildStd: true, linker, rustflags };
}

/** A musl cdylib links against libc.so dynamically; its unwinder needs libgcc_s, found through a link dir. */
function muslFlags(gcc, name) {
  return ['-C', 'target-feature=-crt-static', '-L', tools.libgccLinkDir(gcc, name)];
}

const TARGETS = [
  {
    triple: 'x86_64-unknown-linux-gnu', suffix: 'linux-x64-gnu', os: 'linux', cpu: 'x64', libc: 'glibc',
    hosts: ['linux'], floor: 'glibc 2.17',
    // rustup's own std, linked by napi-rs's gcc against a glibc 2.17 sysroot.
    toolchain: () => ({ cargo: 'cargo', linker: tools.ensure('glibc217-x64') }),
  },
  {
    triple: 'aarch64-unknown-linux-gnu', suffix: 'linux-arm64-gnu', os: 'linux', cpu: 'arm64', libc: 'glibc',
    hosts: ['linux'], floor: 'glibc 2.17',
    toolchain: () => crossStd('aarch64-unknown-linux-gnu', tools.ensure('glibc217-arm64')),
  },
  {
    triple: 'x86_64-unknown-linux-musl', suffix: 'linux-x64-musl', os: 'linux', cpu: 'x64', libc: 'musl',
    hosts: ['linux'], floor: 'musl 1.2 (libgcc_s.so.1 beside it, as Alpine has)',
    toolchain: () => crossStd('x86_64-unknown-linux-musl', tools.ensure('musl'), muslFlags('gcc', 'x86_64')),
  },
  {
    triple: 'aarch64-unknown-linux-musl', suffix: 'linux-arm64-musl', os: 'linux', cpu: 'arm64', libc: 'musl',
    hosts: ['linux'], floor: 'musl 1.2 (libgcc_s.so.1 beside it, as Alpine has)',
    // No Debian 12 package has an arm64 musl-gcc: the arm64 gcc with Debian 13's arm64 musl (see tools.js).
    toolchain: () => {
      const gcc = tools.ensure('aarch64');
      return crossStd('aarch64-unknown-linux-musl', tools.muslArm64Gcc(), muslFlags(gcc, 'aarch64'));
    },
  },
  {
    triple: 'x86_64-pc-windows-gnu', suffix: 'win32-x64', os: 'win32', cpu: 'x64',
    hosts: ['linux'], floor: 'Windows 10 (x64)',
    // Debian's compiler builds std for the target and mingw-w64 links it. A mingw DLL loads in
    // the MSVC-built node.exe (Node-API is a C ABI); it imports nothing from node.exe.
    toolchain: () => ({ ...crossStd('x86_64-pc-windows-gnu', tools.ensure('mingw')), env: { LIBNODE_PATH: tools.ensure('libnode-placeholder') } }),
  },
  // Built by the hosted CI on their own systems, with rustup's default toolchain there.
  { triple: 'x86_64-pc-windows-msvc', suffix: 'win32-x64', os: 'win32', cpu: 'x64', hosts: ['win32'], floor: 'Windows 10', toolchain: native },
  { triple: 'x86_64-apple-darwin', suffix: 'darwin-x64', os: 'darwin', cpu: 'x64', hosts: ['darwin'], floor: 'macOS 10.12', toolchain: native },
  { triple: 'aarch64-apple-darwin', suffix: 'darwin-arm64', os: 'darwin', cpu: 'arm64', hosts: ['darwin'], floor: 'macOS 11', toolchain: native },
];

/** The target of a Rust triple, or an error naming the known ones. */
function target(triple) {
  const found = TARGETS.find((t) => t.triple === triple);
  if (!found) throw new Error(`unknown target ${triple}; known: ${TARGETS.map((t) => t.triple).join(', ')}`);
  return found;
}

/** One entry per platform package (a package may be built from more than one triple, e.g. win32-x64). */
function platformPackages() {
  const seen = new Map();
  for (const t of TARGETS) if (!seen.has(t.suffix)) seen.set(t.suffix, t);
  return [...seen.values()];
}

/** The triples this system builds. */
function buildableHere() {
  return TARGETS.filter((t) => t.hosts.includes(process.platform)).map((t) => t.triple);
}

module.exports = { TARGETS, target, platformPackages, buildableHere };
