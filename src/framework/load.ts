// app.load(): resolve a module path the way `require` would from the caller's file, import it.
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The directory of the first stack frame outside the framework: the file that called app.load(). */
export function callerDirectory(): string {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, stack) => stack;
    const stack = new Error().stack as unknown as NodeJS.CallSite[];
    for (const site of stack) {
      const file = site.getFileName();
      if (file === undefined || file === null || file.startsWith('node:')) continue;
      const filePath = file.startsWith('file:') ? fileURLToPath(file) : file;
      if (path.dirname(filePath) !== __dirname) return path.dirname(filePath);
    }
  } finally {
    Error.prepareStackTrace = original;
  }
  return process.cwd();
}

// A real dynamic import: TypeScript's commonjs output would turn `import()` into `require`.
const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<unknown>;

/** Resolves `specifier` (absolute, or relative to `fromDirectory`; extension optional) and imports it. */
export async function importFrom(specifier: string, fromDirectory: string): Promise<unknown> {
  const wanted = path.isAbsolute(specifier) || !specifier.startsWith('.') ? specifier : path.resolve(fromDirectory, specifier);
  let resolved: string;
  try {
    resolved = require.resolve(wanted, { paths: [fromDirectory] });
  } catch (err) {
    throw new Error(`pyre: app.load(${JSON.stringify(specifier)}): cannot resolve ${wanted} (${(err as Error).message.split('\n')[0]})`);
  }
  try {
    return await loadModule(resolved);
  } catch (err) {
    throw new Error(`pyre: app.load(${JSON.stringify(specifier)}): loading ${resolved} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** A resolved module file: required, or imported when it is an ES module; its exports. */
export async function loadModule(resolved: string): Promise<unknown> {
  try {
    return require(resolved) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw err;
    return importModule(pathToFileURL(resolved).href);
  }
}
