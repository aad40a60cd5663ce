// The benchmark's own logic, without running it: every case's answer check accepts the right
// answer and refuses a wrong one, wrk's report is read right, the targets' verdicts follow the
// figures, and the charts draw every measurement to its panel's scale.
const { CASES, JSON_ECHO, UPLOAD } = require('../../bench/lib/cases');
const fixtures = require('../../bench/lib/fixtures');
const { parseReport } = require('../../bench/lib/wrk');
const { evaluateTargets } = require('../../bench/lib/targets');
const { renderCharts } = require('../../bench/lib/charts');

type Result = Record<string, unknown> & { server: string; case: string; mode: string };

describe('bench cases', () => {
  test('every answer check accepts the expected body and refuses a changed one', () => {
    for (const testCase of CASES) {
      const right = testCase.answer.type === 'text/plain'
        ? Buffer.from(testCase.answer.shows)
        : testCase.id.startsWith('buffer') || testCase.id.startsWith('stream') || testCase.id.startsWith('static')
          ? fixtures.body(testCase.id.endsWith('64k') ? '64k' : '1m')
          : null;
      if (right !== null) {
        expect(testCase.answer.matches(right)).toBe(true);
        const wrong = Buffer.from(right);
        wrong[wrong.length >> 1] ^= 1;
        expect(testCase.answer.matches(wrong)).toBe(false);
      }
    }
    const order = JSON.parse(JSON_ECHO.body.toString());
    expect(JSON_ECHO.answer.matches(Buffer.from(JSON.stringify({ ...order, echoed: true })))).toBe(true);
    expect(JSON_ECHO.answer.matches(Buffer.from(JSON.stringify(order)))).toBe(false);
    expect(JSON_ECHO.answer.matches(Buffer.from('not json'))).toBe(false);
    expect(UPLOAD.answer.matches(Buffer.from('{"bytes":262144}'))).toBe(true);
    expect(UPLOAD.answer.matches(Buffer.from('{"bytes":262143}'))).toBe(false);
  });

  test('the bodies are the same on every start and of the sizes the cases name', () => {
    expect(JSON_ECHO.body.length).toBeGreaterThan(1400);
    expect(JSON_ECHO.body.length).toBeLessThan(1600);
    expect(fixtures.body('64k')).toHaveLength(65536);
    expect(fixtures.body('1m')).toHaveLength(1 << 20);
    expect(fixtures.upload()).toHaveLength(256 * 1024);
    jest.isolateModules(() => {
      const again = require('../../bench/lib/fixtures');
      expect(again.body('1m').equals(fixtures.body('1m'))).toBe(true);
    });
  });
});

describe("wrk's report", () => {
  test('requests, rate, percentiles and errors are read from its text', () => {
    const report = parseReport(`Running 5s test @ http://127.0.0.1:1/
  1 threads and 64 connections
  Latency Distribution
     50%  412.00us
     75%  600.00us
     90%    1.10ms
     99%    2.50ms
  100000 requests in 5.00s, 12.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  20000.00
`);
    expect(report).toMatchObject({ requests: 100000, seconds: 5, rps: 20000, p99Ms: 2.5, errors: 3, non2xx: 4 });
    expect(report.p50Ms).toBeCloseTo(0.412, 6);
  });
});

describe('targets', () => {
  const results: Result[] = [
    { server: 'node-http', case: 'json-echo', mode: 'keep-alive', cpuUsPerRequest: 100, p99Ms: 10 },
    { server: 'pyre-compat', case: 'json-echo', mode: 'keep-alive', cpuUsPerRequest: 45, p99Ms: 7 },
    { server: 'pyre-compat', case: 'hello', mode: 'keep-alive', cpuUsPerRequest: 10 },
    { server: 'pyre-compat', case: 'hello-10k', mode: 'keep-alive', cpuUsPerRequest: 12 },
    { server: 'pyre-compat', case: 'idle-10k', mode: 'idle', bytesPerConnection: 3000 },
  ];
  const find = (server: string, caseId: string, mode: string) => results.find((r) => r.server === server && r.case === caseId && r.mode === mode);
  const verdict = (pattern: RegExp) => evaluateTargets(find).filter((t: { description: string }) => pattern.test(t.description));

  test('a ratio within the factor is met, beyond it missed', () => {
    expect(verdict(/pyre-compat CPU\/req ≤ 0.5× node-http's \(json-echo/)[0]).toMatchObject({ verdict: 'met', ratio: 0.45 });
    expect(verdict(/pyre-compat p99 ≤ 0.6× node-http's \(json-echo/)[0]).toMatchObject({ verdict: 'missed', ratio: 0.7 });
  });

  test('a target against the same server in another case, and an absolute bound', () => {
    expect(verdict(/pyre-compat CPU\/req ≤ 1.1× its own hello \(hello-10k/)[0]).toMatchObject({ verdict: 'missed' });
    expect(verdict(/pyre-compat memory\/connection ≤ 4096 B/)[0]).toMatchObject({ verdict: 'met' });
  });

  test('unmeasured targets are n/a, and optional latency targets are left out', () => {
    expect(verdict(/pyre-compat CPU\/req ≤ 0.5× node-http's \(upload-256k/)[0].verdict).toBe('n/a');
    expect(verdict(/pyre-compat p99 ≤ 0.6× node-http's \(upload-256k/)).toHaveLength(0);
  });
});

describe('charts', () => {
  const run = {
    date: '2026-12-04T00:00:00.000Z',
    machine: { cpu: 'Test CPU', cores: 2, kernel: '6.0', node: 'v20.0.0' },
    settings: { connections: 64, duration: 5, rounds: 1 },
    results: [
      { server: 'node-http', case: 'hello', title: 'GET / <hello>', mode: 'keep-alive', cpuUsPerRequest: 12, rps: 80000, p50Ms: 0.8, p99Ms: 3 },
      { server: 'pyre-native', case: 'hello', title: 'GET / <hello>', mode: 'keep-alive', cpuUsPerRequest: 6, rps: 160000, p50Ms: 0.3, p99Ms: 0.6 },
      { server: 'pyre-native@baseline', case: 'hello', title: 'GET / <hello>', mode: 'keep-alive', cpuUsPerRequest: 6.1, rps: 158000, p50Ms: 0.3, p99Ms: 0.6 },
      { server: 'node-http', case: 'idle-10k', title: '10k idle', mode: 'idle', bytesPerConnection: 8000 },
    ],
  };
  const charts = renderCharts(run);

  test('three SVG documents, titles escaped', () => {
    expect(Object.keys(charts).sort()).toEqual(['cpu.svg', 'latency.svg', 'rps.svg']);
    for (const svg of Object.values(charts) as string[]) {
      expect(svg.startsWith('<?xml')).toBe(true);
      expect(svg.trim().endsWith('</svg>')).toBe(true);
      expect(svg).toContain('GET / &lt;hello&gt;');
      expect(svg).not.toContain('<hello>');
    }
  });

  test('bars are to scale within a panel; the idle case is on the CPU chart only', () => {
    const widths = [...(charts['cpu.svg'] as string).matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    // node-http's 12 µs is the panel's longest bar; pyre-native's 6 µs half of it; then the idle panel's one bar.
    expect(widths).toHaveLength(4);
    expect(widths[1] / widths[0]).toBeCloseTo(0.5, 2);
    expect(charts['cpu.svg']).toContain('10k idle: RSS per connection');
    expect(charts['rps.svg']).not.toContain('10k idle');
    // A baseline twin is drawn paler than the server itself.
    expect(charts['cpu.svg']).toMatch(/fill-opacity="0.45"/);
  });
});
