import type { Command } from 'commander';
import { retrigger, selectCoverages, withOperatorContext, type RetriggerOutcome } from '../app/operator/operator';
import { createProgress, writerOf, type CommandIo } from './progress';

/**
 * `retrigger` — re-run coverages now (docs/operating.md "Re-triggering"). Default: the CLI builds the
 * platform's manual-enrichment message itself (toStixBundle + workAdd) and publishes it to the listen
 * queue; `--via-platform` asks the platform (askEnrichment), which creates and sends it.
 */

interface RetriggerOpts {
  config?: string;
  stale?: boolean;
  all?: boolean;
  yes?: boolean;
  container?: string;
  viaPlatform?: boolean;
  json?: boolean;
}

export function formatOutcome(o: RetriggerOutcome): string {
  const who = o.coverage.name !== o.coverage.id ? `${o.coverage.standardId} "${o.coverage.name}"` : o.coverage.id;
  if (o.error) return `failed  ${who}: ${o.error}\n`;
  return `queued  ${who} work=${o.workId}${o.messageId ? ` message=${o.messageId}` : ''}\n`;
}

export function registerRetriggerCommand(program: Command, io: CommandIo = {}): void {
  program
    .command('retrigger')
    .description('Re-run coverage assessments now (by id, --stale, --container or --all)')
    .argument('[coverage-id...]', 'coverage ids (internal or standard)')
    .option('-c, --config <file>', 'config.yml to read (default: CONFIG_FILE, else ./config.yml when present)')
    .option('--stale', 'every coverage whose valid_to has passed')
    .option('--all', 'every coverage in scope (needs --yes)')
    .option('--yes', 'confirm --all')
    .option('--container <id>', 'the coverage of this report / intrusion set / other covered entity')
    .option('--via-platform', "ask the platform to enrich (its own work and message) instead of queueing the message directly")
    .option('--json', 'print the outcomes as JSON')
    .action(async (ids: string[], opts: RetriggerOpts) => {
      const write = writerOf(io);
      if (ids.length === 0 && !opts.stale && !opts.all && !opts.container) {
        throw new Error('name coverage ids, or use --stale, --container <id> or --all');
      }
      await withOperatorContext({ ...(opts.config ? { configFile: opts.config } : {}), ...(io.env ? { env: io.env } : {}) }, async (ctx) => {
        const now = (io.now ?? (() => new Date()))();
        const coverages = await selectCoverages(ctx.gql, { ids, ...(opts.stale ? { stale: true } : {}), ...(opts.all ? { all: true } : {}), ...(opts.container ? { container: opts.container } : {}) }, now);
        if (opts.all && !opts.yes) {
          throw new Error(`--all would re-run ${coverages.length} coverage(s); add --yes to confirm`);
        }
        if (coverages.length === 0) {
          write('no coverage selected; nothing queued\n');
          return;
        }
        const progress = coverages.length > 1 ? createProgress({ label: 'retrigger', total: coverages.length, ...(io.progressStream ? { stream: io.progressStream } : {}) }) : undefined;
        let outcomes: RetriggerOutcome[];
        try {
          outcomes = await retrigger(ctx, coverages, {
            ...(opts.viaPlatform ? { viaPlatform: true } : {}),
            onEach: (o) => {
              progress?.tick(o.error ? `failed ${o.coverage.id}` : o.coverage.standardId);
              if (!opts.json && (!progress || o.error)) write(formatOutcome(o));
            },
          });
        } finally {
          progress?.stop();
        }
        const failed = outcomes.filter((o) => o.error).length;
        if (opts.json) {
          write(`${JSON.stringify(outcomes, null, 2)}\n`);
        } else {
          if (progress) for (const o of outcomes) if (!o.error) write(formatOutcome(o));
          const route = opts.viaPlatform ? 'through the platform (askEnrichment)' : `on ${(await ctx.connector()).listenQueue}`;
          write(`queued ${outcomes.length - failed} of ${outcomes.length} coverage(s) ${route}${failed ? `; ${failed} failed` : ''}\n`);
        }
        if (failed > 0) process.exitCode = 1;
      });
    });
}
