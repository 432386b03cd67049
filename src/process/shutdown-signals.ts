import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';

/** A repeat within this window is the same stop request (Ctrl-C reaches the server directly and via npm). */
const REPEAT_WINDOW_MS = 3000;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Graceful stop on SIGINT/SIGTERM, on an uncaught error, or when the grace delay runs out.
 * close-with-grace exits at once on a second signal; a doubled signal here still stops gracefully,
 * and only a signal sent again after REPEAT_WINDOW_MS (an operator insisting) exits at once.
 */
export function installGracefulShutdown(logger: Logger, close: () => Promise<void>, delayMs = 10_000): void {
  const grace = closeWithGrace({ delay: delayMs, logger, skip: [...SIGNALS] }, async ({ err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    await close();
    logger.info('stopped');
  });
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstSignalAt === undefined) {
      firstSignalAt = now;
      logger.info({ signal }, 'shutting down');
      void grace.close();
    } else if (now - firstSignalAt <= REPEAT_WINDOW_MS) {
      logger.info({ signal }, 'already shutting down');
    } else {
      logger.warn({ signal }, 'signal repeated during shutdown: exiting now');
      process.exit(1);
    }
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
}
