// `pyre serve` arguments.
import { parseServeArgs, serveArgs, UsageError } from '../../src/cli/args';

test('defaults: port from PORT else 3000, host ::, one process, 30 s, no access log', () => {
  expect(parseServeArgs(['app.js'], {})).toMatchObject({ entry: 'app.js', port: 3000, host: '::', workers: undefined, gracefulTimeoutSeconds: 30, accessLog: undefined, accessLogFormat: 'common', maxRequests: undefined, register: false, watch: false });
  expect(parseServeArgs(['app.js'], { PORT: '8080' }).port).toBe(8080);
});

test('every option, in both spellings', () => {
  const options = parseServeArgs(['--port=0', 'app.js', '--host', 'localhost', '--workers', 'auto', '--graceful-timeout', '2.5', '--access-log', 'logs/a.log', '--access-log-format=json', '--max-requests', '1000', '--register', '--keep-alive-timeout', '65', '--socket', '/run/a.sock'], {});
  expect(options).toMatchObject({ entry: 'app.js', port: 0, host: '127.0.0.1', hostGiven: true, workers: 'auto', gracefulTimeoutSeconds: 2.5, accessLog: 'logs/a.log', accessLogFormat: 'json', maxRequests: 1000, register: true, keepAliveTimeoutMs: 65_000, socket: '/run/a.sock' });
  expect(parseServeArgs(serveArgs(options), {})).toEqual({ ...options, watch: false });
});

test('--access-log without a file is standard output; --max-requests alone forks one worker', () => {
  expect(parseServeArgs(['app.js', '--access-log'], {}).accessLog).toBe('-');
  expect(parseServeArgs(['app.js', '--access-log', '--workers', '2'], {}).accessLog).toBe('-');
  expect(parseServeArgs(['app.js', '--max-requests', '5'], {}).workers).toBe(1);
});

test.each([
  [[], 'which app? give the entry: pyre serve <entry>'],
  [['a.js', 'b.js'], 'one entry only (got a.js and b.js)'],
  [['a.js', '--port', '70000'], '--port must be at most 65535, got 70000'],
  [['a.js', '--port', 'x'], '--port needs a whole number >= 0, got "x"'],
  [['a.js', '--workers', '0'], '--workers needs a whole number >= 1, got "0"'],
  [['a.js', '--graceful-timeout', '-1'], '--graceful-timeout needs a number of seconds >= 0, got "-1"'],
  [['a.js', '--access-log-format', 'xml'], '--access-log-format is common or json, got "xml"'],
  [['a.js', '--verbose'], 'unknown option --verbose'],
])('%j: %s', (args, message) => {
  expect(() => parseServeArgs(args, {})).toThrow(new UsageError(message));
});
