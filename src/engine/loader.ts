// Finds the engine's native binary for the running platform: a local build in a checkout of the
// repository first (native/pyre.<suffix>.node, what `npm install` builds there), else the platform
// package npm installed beside pyre-http (`pyre-http-<suffix>`, one of its optionalDependencies).
// When neither fits, one error says what was detected, what was looked for, and what to do.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What the binary must match, read off the running node (never off files such as /usr/bin/ldd). */
export interface RunningPlatform {
  platform: string;
  arch: string;
  /** The glibc the running node uses (process.report's header.glibcVersionRuntime); undefined on musl and off Linux. */
  glibc: string | undefined;
  nodeVersion: string;
}

/** Where and how the loader looks; injected by tests. */
export interface LoadEnvironment {
  running: RunningPlatform;
  /** The directory of pyre-http's package.json. */
  packageRoot: string;
  /** pyre-http's version: the platform package must carry the same. */
  version: string;
  /** The platform suffixes pyre-http lists as optionalDependencies (empty in a checkout). */
  published: string[];
  exists(file: string): boolean;
  require(id: string): unknown;
}

type Report = typeof process.report & { excludeNetwork?: boolean };

/** The glibc version of the running node, from its diagnostic report (which has it only when node links glibc). */
export function runningGlibc(report: Report = process.report): string | undefined {
  // The network section is the slow part of a report and says nothing about libc (the switch exists from Node 20.13).
  const excludeNetwork = report.excludeNetwork;
  report.excludeNetwork = true;
  try {
    const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    return header?.glibcVersionRuntime;
  } finally {
    report.excludeNetwork = excludeNetwork;
  }
}

/** The suffix that names a platform's binary (`pyre.<suffix>.node`) and its package (`pyre-http-<suffix>`). */
export function platformSuffix(running: RunningPlatform): string {
  if (running.platform !== 'linux') return `${running.platform}-${running.arch}`;
  return `linux-${running.arch}-${running.glibc === undefined ? 'musl' : 'gnu'}`;
}

function describe(running: RunningPlatform): string {
  const libc = running.platform !== 'linux' ? '' : running.glibc === undefined ? ', musl libc' : `, glibc ${running.glibc}`;
  return `${platformSuffix(running)}: ${running.platform} ${running.arch}${libc}, Node ${running.nodeVersion}`;
}

function fromSource(suffix: string): string {
  return (
    `To build from source (needs Rust/cargo 1.80+): in a checkout of the Pyre repository run \`npm install\`, ` +
    `which builds native/pyre.${suffix}.node, then depend on that checkout (\`npm install /path/to/checkout\`).`
  );
}

function isMissing(err: unknown, id: string): boolean {
  const e = err as NodeJS.ErrnoException;
  return e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${id}'`);
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

/** Loads the binary for the running platform, or throws one error that explains what to do. */
export function loadNative(env: LoadEnvironment): unknown {
  const suffix = platformSuffix(env.running);
  const local = path.join(env.packageRoot, 'native', `pyre.${suffix}.node`);
  if (env.exists(local)) {
    try {
      return env.require(local);
    } catch (err) {
      throw new Error(
        `pyre-http: the local build ${local} does not load on this platform (${describe(env.running)}): ${reasonOf(err)}. ` +
          `Rebuild it with \`npm run build:native\`.`,
      );
    }
  }
  const pkg = `pyre-http-${suffix}`;
  const published = env.published.length === 0 || env.published.includes(suffix);
  let version: string;
  try {
    version = (env.require(`${pkg}/package.json`) as { version: string }).version;
  } catch (err) {
    if (!isMissing(err, `${pkg}/package.json`)) throw err;
    const lines = [`pyre-http: no native binary for this platform (${describe(env.running)}).`];
    lines.push(`Looked for a local build at ${local} and for the platform package ${pkg}: neither is installed.`);
    if (published) {
      lines.push(
        `npm installs ${pkg} by itself unless optional dependencies were left out (--omit=optional, --no-optional, ` +
          `or a lockfile made on another platform): \`npm install ${pkg}@${env.version}\`.`,
      );
    } else {
      lines.push(`Pyre publishes no binary for ${suffix} (it does for ${env.published.join(', ')}).`);
    }
    lines.push(fromSource(suffix));
    throw new Error(lines.join('\n'));
  }
  if (version !== env.version) {
    throw new Error(
      `pyre-http: ${pkg} is version ${version} but pyre-http is ${env.version}; the two must match: \`npm install ${pkg}@${env.version}\`.`,
    );
  }
  try {
    return env.require(pkg);
  } catch (err) {
    throw new Error(
      `pyre-http: the native binary in ${pkg} does not load on this platform (${describe(env.running)}): ${reasonOf(err)}.\n` +
        fromSource(suffix),
    );
  }
}

/** The directory of the nearest package.json above this file (src/engine in tests, dist/src/engine built). */
function packageRootOf(dir: string): string {
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`pyre-http: no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** The environment of this process: the running node, this package, node's require. */
export function processEnvironment(): LoadEnvironment {
  const packageRoot = packageRootOf(__dirname);
  const manifest = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as {
    version: string;
    optionalDependencies?: Record<string, string>;
  };
  const prefix = 'pyre-http-';
  return {
    running: {
      platform: process.platform,
      arch: process.arch,
      glibc: process.platform === 'linux' ? runningGlibc() : undefined,
      nodeVersion: process.version,
    },
    packageRoot,
    version: manifest.version,
    published: Object.keys(manifest.optionalDependencies ?? {})
      .filter((name) => name.startsWith(prefix))
      .map((name) => name.slice(prefix.length)),
    exists: fs.existsSync,
    require,
  };
}
