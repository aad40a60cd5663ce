// The seed example compiles as a user's project compiles it: against the package's published
// types (exports map), under strict, with each module setting, with and without experimentalDecorators.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');

function run(args: string[], cwd: string): void {
  try {
    execFileSync(process.execPath, [tsc, ...args], { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const { stdout, stderr } = err as { stdout: string; stderr: string };
    throw new Error(`tsc ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

describe('the seed example under a user tsconfig', () => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-consumer-'));
  const pkg = path.join(project, 'node_modules/pyre-http');

  beforeAll(() => {
    fs.mkdirSync(pkg, { recursive: true });
    fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    // The package's runtime dependency, installed beside it as npm would.
    fs.symlinkSync(path.join(root, 'node_modules/light-my-request'), path.join(project, 'node_modules/light-my-request'));
    run(['-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'dist'), '--emitDeclarationOnly'], root);
    fs.mkdirSync(path.join(project, 'blueprints'));
    fs.copyFileSync(path.join(root, 'examples/framework/blueprints/hello.ts'), path.join(project, 'blueprints/hello.ts'));
  }, 120_000);

  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  const settings = [
    { module: 'commonjs', moduleResolution: 'node' },
    { module: 'node16', moduleResolution: 'node16' },
    { module: 'esnext', moduleResolution: 'bundler' },
  ];
  for (const { module, moduleResolution } of settings) {
    for (const experimentalDecorators of [false, true]) {
      test(`module ${module}, moduleResolution ${moduleResolution}, experimentalDecorators ${experimentalDecorators}`, () => {
        const config = {
          compilerOptions: { strict: true, target: 'ES2022', module, moduleResolution, experimentalDecorators, noEmit: true, types: ['node'], typeRoots: [path.join(root, 'node_modules/@types')] },
          files: ['blueprints/hello.ts'],
        };
        const file = `tsconfig.${module}.${experimentalDecorators}.json`;
        fs.writeFileSync(path.join(project, file), JSON.stringify(config));
        expect(() => run(['-p', file], project)).not.toThrow();
      }, 60_000);
    }
  }
});
