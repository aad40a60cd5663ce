// A 'request' listener that throws or rejects, on node:http beside Pyre, each in its own process
// (test/compat/fixtures/listener-errors.js): a throw reaches 'uncaughtException' (or ends the
// process) and leaves the request unanswered; under events.captureRejections a rejected async
// listener is answered 500 without the headers it had set.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const FIXTURE = path.join(__dirname, 'fixtures/listener-errors.js');

function run(scenario: string, pyre: boolean): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, PYRE: pyre ? '1' : '' };
  const { status, stdout, stderr } = spawnSync(process.execPath, [FIXTURE, scenario], { env, encoding: 'utf8', timeout: 10_000 });
  return { status, stdout, stderr };
}

describe("exceptions in a drop-in server's 'request' listener", () => {
  test.each([
    ['a synchronous throw reaches uncaughtException; the request stays unanswered', 'throw', { uncaught: 'sync boom' }],
    ['a rejected async listener under captureRejections is answered 500, its headers dropped', 'reject-captured',
      { answer: { status: 500, body: 'Internal Server Error', secret: null } }],
  ])('%s', (_name, scenario, expected) => {
    const node = run(scenario, false);
    const pyre = run(scenario, true);
    expect(JSON.parse(pyre.stdout)).toEqual(JSON.parse(node.stdout));
    expect(JSON.parse(node.stdout)).toEqual(expected);
  });

  test('a synchronous throw with no uncaughtException handler ends the process with the error, as on node', () => {
    const node = run('throw-unhandled', false);
    const pyre = run('throw-unhandled', true);
    expect([pyre.status, pyre.stdout]).toEqual([node.status, node.stdout]);
    expect(node.status).toBe(1);
    expect(pyre.stderr).toMatch(/^Error: sync boom$/m);
  });
});
