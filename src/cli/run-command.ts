import type { Command } from 'commander';
import { startDaemon } from '../app/main';

/**
 * `coverage-connector run` — the long-running connector (what `npm start` runs). SIGTERM/SIGINT stop
 * consuming, let in-flight jobs finish within WORKER_SHUTDOWN_GRACE_MS, then close everything.
 */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Run the connector: register in OpenCTI, consume enrichment requests, push scores')
    .option('-c, --config <file>', 'config.yml to read (default: CONFIG_FILE, else ./config.yml when present)')
    .action(async (opts: { config?: string }) => {
      const startup = new AbortController();
      const abortStartup = (): void => startup.abort();
      process.once('SIGTERM', abortStartup);
      process.once('SIGINT', abortStartup);
      const daemon = await startDaemon({ ...(opts.config ? { configFile: opts.config } : {}), signal: startup.signal });
      process.off('SIGTERM', abortStartup);
      process.off('SIGINT', abortStartup);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          daemon.log.info({ signal }, 'signal received');
          daemon
            .close()
            .catch((err: unknown) => {
              daemon.log.error({ err }, 'error while stopping');
              process.exitCode = 1;
            })
            .finally(resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
