// node's http.Server export, run in child processes on node and under pyre-http/register: made
// with or without `new` or subclassed, it is a Pyre server, `instanceof http.Server` holds, and
// unref() and Symbol.asyncDispose behave as node's.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const FIXTURE = path.join(__dirname, 'fixtures/server-object.js');
const REGISTER = path.join(__dirname, '../../dist/src/register.js');

function run(register: boolean): { status: number | null; report: Record<string, unknown>; ms: number } {
  const started = Date.now();
  const args = register ? ['-r', REGISTER, FIXTURE] : [FIXTURE];
  const { status, stdout } = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 10_000 });
  return { status, report: JSON.parse(stdout) as Record<string, unknown>, ms: Date.now() - started };
}

describe('http.Server under pyre-http/register', () => {
  const node = run(false);
  const pyre = run(true);

  test('with or without new, or subclassed: a Pyre server that is an instanceof http.Server and answers as on node', () => {
    const all = { withNew: true, withoutNew: true, subclass: true };
    expect(node.report.instances).toEqual(all);
    expect(pyre.report.instances).toEqual(all);
    expect(node.report.pyre).toEqual({ withNew: false, withoutNew: false, subclass: false });
    expect(pyre.report.pyre).toEqual(all);
    expect(pyre.report.answers).toEqual(node.report.answers);
    expect(pyre.report.answers).toEqual({ withNew: 'with new', withoutNew: 'without new', subclass: 'subclass tagged' });
    expect(pyre.report.subclassKeepsItsClass).toBe('Tagged');
  });

  test('Symbol.asyncDispose closes the server, and rejects as close() does once it is closed', () => {
    expect([pyre.report.disposed, pyre.report.disposeAgain]).toEqual([node.report.disposed, node.report.disposeAgain]);
    expect(node.report.disposeAgain).toBe('ERR_SERVER_NOT_RUNNING');
  });

  test('unref(): the process exits with the unref\'d server still listening', () => {
    expect([node.status, pyre.status]).toEqual([0, 0]);
    // It would run into spawnSync's 10 s timeout (status null) if the server kept it alive.
    expect(pyre.ms).toBeLessThan(8000);
  });
});
