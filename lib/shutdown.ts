/**
 * Ctrl-C and SIGTERM ask for a clean stop: work in progress drains, buffers flush, offsets commit.
 * A second signal exits at once.
 */
export function onShutdown(handler: (signal: NodeJS.Signals) => void | Promise<void>): () => void {
  let asked = false;
  const listener = (signal: NodeJS.Signals) => {
    if (asked) {
      process.stderr.write(`\n${signal} again: exiting without waiting\n`);
      process.exit(130);
    }
    asked = true;
    process.stderr.write(`\n${signal}: stopping cleanly (again to force)\n`);
    void handler(signal);
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  };
}
