// What of Pyre is built and loads, asked of a separate node process so the runner never loads
// the addon itself; and a warning when the build is older than its sources.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = path.join(ROOT, 'dist/src/index.js');
const REGISTER = path.join(ROOT, 'dist/src/register.js');

const PROBE = `
const features = Object.keys(require(${JSON.stringify(ENTRY)}));
if (require('node:fs').existsSync(${JSON.stringify(REGISTER)})) features.push('pyre-http/register');
process.stdout.write(JSON.stringify(features));
`;

/** { features: Set of what can be used, or null; why: the reason when Pyre does not load }. */
function probePyre() {
  if (!fs.existsSync(ENTRY)) {
    return { features: null, why: "Pyre's TypeScript is not compiled (no dist/src/index.js; run `npm run build:ts`)" };
  }
  const result = spawnSync(process.execPath, ['-e', PROBE], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) {
    const message = /pyre: [^\n]*/.exec(result.stderr)?.[0] ?? result.stderr.trim().split('\n')[0];
    return { features: null, why: `Pyre does not load: ${message}` };
  }
  return { features: new Set(JSON.parse(result.stdout)), why: null };
}

/** Why `server` cannot run on this build of Pyre, or null when it can. */
function missingFor(server, probe) {
  if (server.needs.length === 0) return null;
  if (probe.features === null) return probe.why;
  const missing = server.needs.filter((need) => !probe.features.has(need));
  if (missing.length === 0) return null;
  return missing.includes('pyre-http/register')
    ? 'pyre-http/register is not built yet (no dist/src/register.js)'
    : `Pyre does not export ${missing.join(', ')} yet`;
}

function newestMtime(dir, extension) {
  if (!fs.existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(extension)) {
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
    }
  }
  return newest;
}

function mtime(file) {
  return fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0;
}

/** Warnings for a build older than its sources: the numbers would not be of the current code. */
function staleBuildWarnings() {
  const warnings = [];
  const compiled = mtime(ENTRY);
  const sources = Math.max(newestMtime(path.join(ROOT, 'src'), '.ts'), newestMtime(path.join(ROOT, 'compat'), '.ts'));
  if (compiled && sources > compiled) warnings.push('dist/ is older than src/ or compat/: run `npm run build:ts` to bench the current code');
  const addons = fs.readdirSync(path.join(ROOT, 'native')).filter((name) => name.endsWith('.node'));
  const built = Math.max(0, ...addons.map((name) => mtime(path.join(ROOT, 'native', name))));
  if (built && newestMtime(path.join(ROOT, 'native/src'), '.rs') > built) {
    warnings.push('the native addon is older than native/src: run `npm run build:native` to bench the current code');
  }
  return warnings;
}

module.exports = { probePyre, missingFor, staleBuildWarnings };
