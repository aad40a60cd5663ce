// The HTTP/1.1 proofs the platform harness runs on other platforms' node (scripts/platforms/
// proof/http-checks.js: node.exe under wine for Windows), run here on this machine's node against
// this checkout, so a change to the engine that would fail them on Windows fails here first.
import * as path from 'node:path';

interface Result {
  name: string;
  ok: boolean;
  detail?: string;
}

const { proveHttp } = require('../../scripts/platforms/proof/http-checks') as {
  proveHttp(options: { runner: { command: string; args: string[] }; appDir: string; check: (name: string, ok: boolean, detail?: string) => void }): Promise<void>;
};

test('every HTTP/1.1 platform proof passes on this node', async () => {
  const results: Result[] = [];
  await proveHttp({
    runner: { command: process.execPath, args: [] },
    appDir: path.join(__dirname, '..', '..'),
    check: (name, ok, detail) => results.push({ name, ok, detail }),
  });
  expect(results.filter((r) => !r.ok)).toEqual([]);
  expect(results.map((r) => r.name.split(':')[0])).toEqual([
    `engine app runs on ${process.platform} ${process.arch}, Node ${process.version}`,
    ...Array(10).fill('engine'),
    'engine app exits by itself once server.close() is done',
    'Express', 'Express',
  ]);
}, 60000);
