// The native loader's choice of binary and its error messages, with the platform, the report and
// the file system injected; plus the real process's environment and a real dlopen failure.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNative, platformSuffix, processEnvironment, runningGlibc, type LoadEnvironment, type RunningPlatform } from '../../src/engine/loader';

const gnuX64: RunningPlatform = { platform: 'linux', arch: 'x64', glibc: '2.31', nodeVersion: 'v20.18.0' };
const muslX64: RunningPlatform = { ...gnuX64, glibc: undefined };
const root = '/app/node_modules/pyre-http';
const localGnu = path.join(root, 'native', 'pyre.linux-x64-gnu.node');

/** An environment whose files and modules are the given maps; records what was required. */
function environment(running: RunningPlatform, files: string[], modules: Record<string, unknown>, published = ['linux-x64-gnu', 'linux-x64-musl']) {
  const required: string[] = [];
  const env: LoadEnvironment = {
    running,
    packageRoot: root,
    version: '0.1.0',
    published,
    exists: (file) => files.includes(file),
    require: (id) => {
      required.push(id);
      if (!(id in modules)) throw Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- loader.js`), { code: 'MODULE_NOT_FOUND' });
      const value = modules[id];
      if (value instanceof Error) throw value;
      return value;
    },
  };
  return { env, required };
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a throw');
}

describe('platformSuffix', () => {
  test.each<[RunningPlatform, string]>([
    [gnuX64, 'linux-x64-gnu'],
    [muslX64, 'linux-x64-musl'],
    [{ ...gnuX64, arch: 'arm64' }, 'linux-arm64-gnu'],
    [{ ...muslX64, arch: 'arm64' }, 'linux-arm64-musl'],
    [{ platform: 'win32', arch: 'x64', glibc: undefined, nodeVersion: 'v20.20.2' }, 'win32-x64'],
    [{ platform: 'darwin', arch: 'arm64', glibc: undefined, nodeVersion: 'v20.20.2' }, 'darwin-arm64'],
  ])('%o -> %s', (running, suffix) => {
    expect(platformSuffix(running)).toBe(suffix);
  });
});

describe('runningGlibc', () => {
  function report(header: object) {
    return { excludeNetwork: false, getReport: () => ({ header }) } as unknown as typeof process.report;
  }

  test('is the report header glibcVersionRuntime, absent under musl', () => {
    expect(runningGlibc(report({ glibcVersionRuntime: '2.17' }))).toBe('2.17');
    expect(runningGlibc(report({ osName: 'Linux' }))).toBeUndefined();
  });

  test('leaves the report settings as they were, and skips the network section while it reads', () => {
    const r = report({ glibcVersionRuntime: '2.36' }) as typeof process.report & { excludeNetwork: boolean };
    let during: boolean | undefined;
    r.getReport = () => ((during = r.excludeNetwork), { header: {} }) as unknown as object;
    runningGlibc(r);
    expect(during).toBe(true);
    expect(r.excludeNetwork).toBe(false);
  });

  test('this process: node on this machine links glibc', () => {
    expect(runningGlibc()).toMatch(/^2\.\d+$/);
  });
});

describe('loadNative', () => {
  const binding = { respond() {} };

  test('prefers a local build in a checkout', () => {
    const { env, required } = environment(gnuX64, [localGnu], { [localGnu]: binding, 'pyre-http-linux-x64-gnu': {} });
    expect(loadNative(env)).toBe(binding);
    expect(required).toEqual([localGnu]);
  });

  test('else the platform package of the detected libc, after checking its version', () => {
    const { env, required } = environment(muslX64, [localGnu], {
      'pyre-http-linux-x64-musl/package.json': { version: '0.1.0' },
      'pyre-http-linux-x64-musl': binding,
      'pyre-http-linux-x64-gnu': {},
    });
    expect(loadNative(env)).toBe(binding);
    expect(required).toEqual(['pyre-http-linux-x64-musl/package.json', 'pyre-http-linux-x64-musl']);
  });

  test('no binary: one message naming the platform, the package looked for, and both ways out', () => {
    const { env } = environment(muslX64, [], {});
    const message = messageOf(() => loadNative(env));
    expect(message).toContain('no native binary for this platform (linux-x64-musl: linux x64, musl libc, Node v20.18.0)');
    expect(message).toContain(`a local build at ${path.join(root, 'native', 'pyre.linux-x64-musl.node')}`);
    expect(message).toContain('the platform package pyre-http-linux-x64-musl');
    expect(message).toContain('`npm install pyre-http-linux-x64-musl@0.1.0`');
    expect(message).toContain('To build from source (needs Rust/cargo 1.80+)');
    expect(message).not.toMatch(/Require stack|dlopen/);
  });

  test('a platform Pyre publishes no binary for says so and lists those it does', () => {
    const { env } = environment({ ...gnuX64, arch: 'riscv64' }, [], {});
    const message = messageOf(() => loadNative(env));
    expect(message).toContain('(linux-riscv64-gnu: linux riscv64, glibc 2.31, Node v20.18.0)');
    expect(message).toContain('Pyre publishes no binary for linux-riscv64-gnu (it does for linux-x64-gnu, linux-x64-musl)');
    expect(message).not.toContain('npm install pyre-http-linux-riscv64-gnu');
    expect(message).toContain('native/pyre.linux-riscv64-gnu.node');
  });

  test('a platform package of another version is refused before it is loaded', () => {
    const { env, required } = environment(gnuX64, [], { 'pyre-http-linux-x64-gnu/package.json': { version: '0.0.9' }, 'pyre-http-linux-x64-gnu': binding });
    expect(messageOf(() => loadNative(env))).toBe(
      'pyre-http: pyre-http-linux-x64-gnu is version 0.0.9 but pyre-http is 0.1.0; the two must match: `npm install pyre-http-linux-x64-gnu@0.1.0`.',
    );
    expect(required).toEqual(['pyre-http-linux-x64-gnu/package.json']);
  });

  test('a binary that does not load is explained, with the reason, never a bare dlopen error', () => {
    const dlopen = Object.assign(new Error('/lib/libc.so.6: version `GLIBC_2.17\' not found'), { code: 'ERR_DLOPEN_FAILED' });
    const { env } = environment({ ...gnuX64, glibc: '2.12' }, [], { 'pyre-http-linux-x64-gnu/package.json': { version: '0.1.0' }, 'pyre-http-linux-x64-gnu': dlopen });
    const message = messageOf(() => loadNative(env));
    expect(message).toContain('the native binary in pyre-http-linux-x64-gnu does not load on this platform (linux-x64-gnu: linux x64, glibc 2.12, Node v20.18.0)');
    expect(message).toContain("version `GLIBC_2.17' not found");
    expect(message).toContain('To build from source');
  });

  test('a broken local build says to rebuild it', () => {
    const { env } = environment(gnuX64, [localGnu], { [localGnu]: new Error('invalid ELF header') });
    expect(messageOf(() => loadNative(env))).toContain(`the local build ${localGnu} does not load on this platform (linux-x64-gnu: linux x64, glibc 2.31, Node v20.18.0): invalid ELF header. Rebuild it with \`npm run build:native\`.`);
  });
});

describe('the real process', () => {
  test('in this checkout: the repository root, this package, the local build found first', () => {
    const env = processEnvironment();
    expect(env.packageRoot).toBe(path.join(__dirname, '..', '..'));
    expect(env.version).toBe(require('../../package.json').version);
    expect(env.running.glibc).toBeDefined();
    expect(fs.existsSync(path.join(env.packageRoot, 'native', `pyre.${platformSuffix(env.running)}.node`))).toBe(true);
  });

  test('a platform package whose binary is not a shared library fails with the explained error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-loader-'));
    try {
      const pkg = path.join(dir, 'node_modules', 'pyre-http-linux-x64-gnu');
      fs.mkdirSync(pkg, { recursive: true });
      fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'pyre-http-linux-x64-gnu', version: '0.1.0', main: 'pyre.linux-x64-gnu.node' }));
      fs.writeFileSync(path.join(pkg, 'pyre.linux-x64-gnu.node'), 'not an ELF file');
      const env: LoadEnvironment = {
        running: gnuX64,
        packageRoot: path.join(dir, 'node_modules', 'pyre-http'),
        version: '0.1.0',
        published: ['linux-x64-gnu'],
        exists: fs.existsSync,
        require: createRequire(path.join(dir, 'index.js')),
      };
      const message = messageOf(() => loadNative(env));
      expect(message).toMatch(/^pyre-http: the native binary in pyre-http-linux-x64-gnu does not load on this platform \(linux-x64-gnu: .*\): .*(invalid ELF header|file too short)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
