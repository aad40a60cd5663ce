// --access-log: the engine writes the lines (src/engine's accessLog: formatted as each response
// completes, written in batches from a timer), so the request path gains one flag test per
// response and nothing when the log is off. This picks the output and flushes at exit.
import * as fs from 'node:fs';
import { binding } from '../engine/binding';
import type { LogFormat } from './args';

/** Starts the log: `target` '-' is standard output, else a file appended to. */
export function startAccessLog(target: string, format: LogFormat): void {
  const fd = target === '-' ? 1 : fs.openSync(target, 'a');
  binding.accessLog(fd, format === 'json');
}

/** Writes the lines not written yet; before the process exits. */
export function flushAccessLog(): void {
  binding.accessLogFlush();
}
