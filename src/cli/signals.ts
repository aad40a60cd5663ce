// Shutdown signals for whichever process owns the shutdown (the primary, or the one process
// serving without one): SIGTERM or SIGINT drains; a second SIGINT exits at once.
export interface ShutdownHandlers {
  drain(signal: NodeJS.Signals): void;
  now(): void;
}

export function onShutdownSignals(handlers: ShutdownHandlers): void {
  let draining = false;
  const first = (signal: NodeJS.Signals): void => {
    if (draining) return;
    draining = true;
    handlers.drain(signal);
  };
  process.on('SIGTERM', first);
  process.on('SIGINT', (signal) => {
    if (draining) handlers.now();
    else first(signal);
  });
}
