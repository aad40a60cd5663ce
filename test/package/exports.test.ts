// The package as consumers load it: CommonJS and ESM entry points export the same names,
// by package name (`pyre-http`, `pyre-http/register`), from the built output `npm install` produces.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');

function runModule(source: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', source], { cwd: root, encoding: 'utf8' }).trim();
}

test('ESM named exports are exactly the CommonJS exports', () => {
  const out = runModule(`
    import * as esm from 'pyre-http';
    import { createRequire } from 'node:module';
    const cjs = createRequire(process.cwd() + '/')('pyre-http');
    const named = Object.keys(esm).filter((k) => k !== 'default').sort();
    console.log(JSON.stringify({ named, cjs: Object.keys(cjs).sort(), same: esm.default === cjs }));
  `);
  const { named, cjs, same } = JSON.parse(out) as { named: string[]; cjs: string[]; same: boolean };
  expect(named).toEqual(cjs);
  expect(same).toBe(true);
  expect(cjs).toEqual(expect.arrayContaining(['serve', 'createServer', 'App', 'Blueprint', 'endpoint', 'responses']));
});

test('pyre-http/register swaps http.createServer, from ESM and from CommonJS', () => {
  const esm = runModule(`
    import 'pyre-http/register';
    import http from 'node:http';
    import { Server } from 'pyre-http';
    console.log(http.createServer() instanceof Server);
  `);
  const cjs = execFileSync(
    process.execPath,
    ['-r', 'pyre-http/register', '-e', `console.log(require('node:http').createServer() instanceof require('pyre-http').Server)`],
    { cwd: root, encoding: 'utf8' },
  ).trim();
  expect(esm).toBe('true');
  expect(cjs).toBe('true');
});
