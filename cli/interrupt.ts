/** Ctrl-C handling shared by the long-running commands (consume, verify). */

/**
 * The first SIGINT/SIGTERM asks the command to stop gracefully (`stop`); a second one exits at once
 * with 130, as shells expect after Ctrl-C. `dispose()` removes the handlers.
 */
export function onInterrupt(stop: () => void): { dispose(): void } {
  let count = 0;
  const handler = () => {
    if (++count === 1) stop();
    else process.exit(130);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
