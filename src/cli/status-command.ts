import type { Command } from 'commander';
import { collectStatus, withOperatorContext, type StatusReport } from '../app/operator/operator';
import { whenText } from '../app/time-text';
import { deadLetterQueueMissing } from './dlq-command';
import { writerOf, type CommandIo } from './progress';

/**
 * `status` — one screen for an operator: registration, platform and broker reachability, queue
 * depths, and what the running daemon reports on its HTTP /status (in-flight jobs, scheduler leader,
 * last success). A component that is down is reported as down; the command itself does not fail
 * because of it (exit code 2 tells scripts something is down).
 */

const UNKNOWN_DAEMON = 'unknown (daemon HTTP not reachable)';

export function formatStatus(r: StatusReport, now = new Date()): string {
  const yesNo = (b: boolean | null | undefined, unknown = 'unknown'): string => (b === true ? 'yes' : b === false ? 'no' : unknown);
  const depth = (d: number | null | undefined, missing: string): string => (d === null ? missing : d === undefined ? 'unknown' : String(d));
  const d = r.daemon.status;
  const other = r.daemon.otherConnector;
  const daemonUnknown = other ? `unknown (the daemon at ${r.daemon.url} is connector ${other}'s)` : UNKNOWN_DAEMON;
  const daemonLine = other
    ? `up  ${r.daemon.url}  (NOT this connector's daemon: it serves connector ${other}; check HTTP_PORT / --daemon-url)`
    : `${r.daemon.reachable ? 'up' : 'not reachable'}  ${r.daemon.url}${r.daemon.error ? `  (${r.daemon.error})` : ''}`;
  const lines = [
    `connector         ${r.connector.id}`,
    `registered        ${yesNo(r.connector.registered, 'unknown (platform not reachable)')}${r.connector.active !== undefined ? ` (active: ${yesNo(r.connector.active)}${r.connector.lastSeen ? `, last seen ${whenText(r.connector.lastSeen, now)}` : ''})` : ''}`,
    `platform          ${r.platform.reachable ? 'up' : 'DOWN'}  ${r.platform.url}${r.platform.error ? `  (${r.platform.error})` : ''}`,
    `broker            ${r.broker.reachable === true ? 'up' : r.broker.reachable === false ? 'DOWN' : 'unknown'}  ${r.broker.url ?? ''}${r.broker.error ? `  (${r.broker.error})` : ''}`,
    `listen queue      ${r.queues.listen.name}: ${depth(r.queues.listen.depth, 'missing (queue does not exist)')}`,
    r.queues.deadLetter.depth === null
      ? `dead-letter queue ${deadLetterQueueMissing(r.queues.deadLetter.name)}`
      : `dead-letter queue ${r.queues.deadLetter.name}: ${depth(r.queues.deadLetter.depth, '')}`,
    `daemon HTTP       ${daemonLine}`,
    `in-flight jobs    ${d?.in_flight ?? daemonUnknown}`,
    `scheduler leader  ${d ? (d.scheduler?.enabled === false ? 'scheduler disabled' : yesNo(d.scheduler?.leader)) : daemonUnknown}`,
    `last success      ${d ? whenText(d.last_success, now, 'none since start') : daemonUnknown}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** True when something an operator must fix is down (platform, broker, or the connector unregistered). */
export function somethingDown(r: StatusReport): boolean {
  return !r.platform.reachable || r.broker.reachable !== true || r.connector.registered === false;
}

export function registerStatusCommand(program: Command, io: CommandIo = {}): void {
  program
    .command('status')
    .description('Registration, platform and broker reachability, queue depths, in-flight jobs, scheduler leader, last success')
    .option('-c, --config <file>', 'config.yml to read (default: CONFIG_FILE, else ./config.yml when present)')
    .option('--daemon-url <url>', "the running daemon's HTTP endpoint (default from HTTP_HOST / HTTP_PORT)")
    .option('--json', 'JSON output')
    .action(async (opts: { config?: string; daemonUrl?: string; json?: boolean }) => {
      const write = writerOf(io);
      await withOperatorContext({ ...(opts.config ? { configFile: opts.config } : {}), ...(io.env ? { env: io.env } : {}) }, async (ctx) => {
        const report = await collectStatus(ctx, opts.daemonUrl ? { daemonUrl: opts.daemonUrl } : {});
        write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
        if (somethingDown(report)) process.exitCode = 2;
      });
    });
}
