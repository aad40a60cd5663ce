#!/usr/bin/env node
// The `pyre` command: `pyre serve <entry> [options]` (see USAGE in args.ts and docs/DEPLOYING.md).
// The same file runs the workers a primary forks (told apart by WORKER_SETTINGS_ENV).
import cluster from 'node:cluster';
import { spawn } from 'node:child_process';
import { availableCpus } from './cpus';
import { USAGE, UsageError, parseServeArgs, serveArgs, type ServeOptions } from './args';
import { EntryError, resolveEntry } from './entry';
import { say } from './messages';
import { Primary } from './primary';
import { WORKER_SETTINGS_ENV, type WorkerSettings, runAlone, runSupervisedWorker } from './worker';

/** --watch: node's own watch mode restarts this command, run without --watch, on changes. */
function watch(options: ServeOptions): void {
  const child = spawn(process.execPath, ['--watch', __filename, 'serve', ...serveArgs(options)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function serve(args: string[]): void {
  let options: ServeOptions;
  let file: string;
  try {
    options = parseServeArgs(args);
    file = resolveEntry(options.entry);
    if (options.watch && options.workers !== undefined) throw new UsageError('--watch serves in one process: leave out --workers and --max-requests');
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof EntryError)) throw err;
    say(err.message);
    if (err instanceof UsageError) process.stderr.write(`\n${USAGE}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
  if (options.watch) return watch(options);
  if (options.workers === undefined) {
    void runAlone({ file, options });
    return;
  }
  const limit = options.workers === 'auto' ? availableCpus() : { cpus: options.workers, reason: '--workers' };
  new Primary(file, options, limit.cpus, options.workers === 'auto' ? `auto: ${limit.reason}` : '--workers').start();
}

function main(argv: string[]): void {
  const settings = process.env[WORKER_SETTINGS_ENV];
  if (cluster.isWorker && settings !== undefined) {
    void runSupervisedWorker(JSON.parse(settings) as WorkerSettings);
    return;
  }
  const [command, ...args] = argv;
  if (command === 'serve') return serve(args);
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${(require('../../../package.json') as { version: string }).version}\n`);
    return;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  say(`unknown command ${command}`);
  process.stderr.write(`\n${USAGE}\n`);
  process.exit(2);
}

main(process.argv.slice(2));
