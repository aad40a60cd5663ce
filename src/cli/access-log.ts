// --access-log: the engine writes the lines (src/engine's accessLog: formatted as each response
// completes, written in batches from a timer), so the request path gains one flag test per
// response and nothing when the log is off. This picks the output, reopens a file that was
// rotated away, and flushes at exit.
import * as fs from 'node:fs';
import { binding } from '../engine/binding';
import type { LogFormat } from './args';

/** The log this process writes to a file, if it does. */
let current: { file: string; fd: number; json: boolean } | undefined;

/** Starts the log: `target` '-' is standard output, else a file appended to. */
export function startAccessLog(target: string, format: LogFormat): void {
  const json = format === 'json';
  if (target === '-') {
    binding.accessLog(1, json);
    return;
  }
  current = { file: target, fd: fs.openSync(target, 'a'), json };
  binding.accessLog(current.fd, json);
}

/**
 * Opens the log's file anew (after a rotation renamed it: the lines so far go to the renamed
 * file, the next ones to a new file at the path); the file's path, or undefined when the log
 * goes to standard output or is off. Throws if the file cannot be opened (the old one stays).
 */
export function reopenAccessLog(): string | undefined {
  if (current === undefined) return undefined;
  const fd = fs.openSync(current.file, 'a');
  // The engine writes what it has buffered to the old file before it switches.
  binding.accessLog(fd, current.json);
  fs.closeSync(current.fd);
  current.fd = fd;
  return current.file;
}

/** Writes the lines not written yet; before the process exits. */
export function flushAccessLog(): void {
  binding.accessLogFlush();
}
