// `npm run package`: npm tarballs for pyre-http and for each platform package, in dist/npm/.
//
//   node scripts/platforms/package.js                  builds every target buildable here (targets.js)
//   node scripts/platforms/package.js --targets T,...  builds only those triples
//   node scripts/platforms/package.js --binaries DIR   builds nothing: packs the pyre.<suffix>.node
//                                                      files found in DIR (the hosted CI's publish job)
//
// pyre-http carries the compiled JavaScript and no binary; its optionalDependencies name, at its
// own version, the platform packages written beside it, so npm installs the one whose os/cpu/libc
// match. A platform package is one binary with those fields. Prints the tarballs' paths.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { buildableHere, platformPackages } = require('./targets');
const { buildTarget } = require('./build');
const { npm } = require('./tools');

const root = path.join(__dirname, '..', '..');
const OUT = path.join(root, 'dist', 'npm');
const STAGE = path.join(OUT, 'stage');
/** What the main package ships: the compiled JavaScript and its ESM wrappers. */
const MAIN_FILES = ['dist/src', 'dist/compat', 'esm', 'README.md'];

const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function pack(dir) {
  const name = npm(['pack', '--silent', '--ignore-scripts', '--pack-destination', OUT, dir]).trim().split('\n').pop();
  return path.join(OUT, name);
}

/** Writes and packs the platform package for one binary. */
function platformPackage(spec, binary) {
  const name = `${manifest.name}-${spec.suffix}`;
  const dir = path.join(STAGE, name);
  const file = `pyre.${spec.suffix}.node`;
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(binary, path.join(dir, file));
  const fields = { os: [spec.os], cpu: [spec.cpu], ...(spec.libc ? { libc: [spec.libc] } : {}) };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({
    name,
    version: manifest.version,
    description: `The ${spec.suffix} binary of ${manifest.name} (${spec.floor} or newer); installed by npm beside ${manifest.name}`,
    license: manifest.license,
    ...fields,
    main: file,
    files: [file],
    engines: manifest.engines,
  }, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'README.md'), `# ${name}\n\nThe native engine of ${manifest.name} for ${spec.suffix}. Do not depend on it directly: npm installs it with ${manifest.name} on the platform it is built for.\n`);
  return { name, tarball: pack(dir) };
}

/** Writes and packs pyre-http itself: its published manifest lists the platform packages. */
function mainPackage(platformNames) {
  const dir = path.join(STAGE, manifest.name);
  for (const entry of MAIN_FILES) fs.cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true, filter: (src) => !src.endsWith('.map') });
  const published = { ...manifest };
  delete published.devDependencies;
  delete published.scripts;
  delete published.napi;
  published.files = MAIN_FILES.filter((f) => f !== 'README.md');
  published.optionalDependencies = Object.fromEntries(platformNames.map((n) => [n, manifest.version]));
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
  return pack(dir);
}

/**
 * Writes every tarball; returns their paths (pyre-http's first) and the targets whose build failed
 * (each { triple, error }): one broken target does not keep the others from being packed.
 */
function packageAll(argv) {
  let binaries;
  let triples = buildableHere();
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--binaries') binaries = path.resolve(argv[i + 1]);
    else if (argv[i] === '--targets') triples = argv[i + 1].split(',');
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(STAGE, { recursive: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const failed = [];
  if (!binaries) {
    binaries = path.join(STAGE, 'binaries');
    for (const triple of triples) {
      try {
        buildTarget(triple, binaries);
      } catch (err) {
        failed.push({ triple, error: err.message });
      }
    }
  }
  const written = [];
  for (const spec of platformPackages()) {
    const binary = path.join(binaries, `pyre.${spec.suffix}.node`);
    if (fs.existsSync(binary)) written.push(platformPackage(spec, binary));
  }
  if (written.length === 0) throw new Error(`no binary found in ${binaries}`);
  const tarballs = [mainPackage(written.map((w) => w.name)), ...written.map((w) => w.tarball)];
  fs.rmSync(STAGE, { recursive: true, force: true });
  return { tarballs, failed };
}

module.exports = { packageAll };

if (require.main === module) {
  try {
    const { tarballs, failed } = packageAll(process.argv.slice(2));
    for (const tarball of tarballs) console.log(path.relative(process.cwd(), tarball));
    for (const { triple, error } of failed) console.error(`package: ${triple} not packed: ${error}`);
    process.exit(failed.length === 0 ? 0 : 1);
  } catch (err) {
    console.error(`package: ${err.message}`);
    process.exit(1);
  }
}
