import type { Command } from 'commander';
import { MissingQueueError, type QueuedMessage } from '../adapters/amqp/dlq-admin';
import { listDeadLetters, matchesId, purgeDeadLetters, replayDeadLetters, showDeadLetter, withOperatorContext, type OperatorContext } from '../app/operator/operator';
import { agoText, whenText } from '../app/time-text';
import { createProgress, writerOf, type CommandIo } from './progress';

/**
 * `dlq list | show | replay | purge` — the connector's dead-letter queue (docs/operating.md "Dead
 * letters"). list/show leave the queue exactly as it was; replay moves messages back to the listen
 * queue with their headers (x-attempts keeps counting); purge needs --yes.
 */

/**
 * The one way every command (dlq list/show/replay/purge, status) states that no dead letter ever
 * happened: the daemon declares the queue on its first start, so before that it does not exist.
 */
export const deadLetterQueueMissing = (queue: string): string => `${queue} does not exist yet: no dead letter so far (the daemon creates it when it first starts)`;

/** Runs `fn` unless the dead-letter queue does not exist; then writes `what: <state>` and returns undefined. */
async function ifDeadLetterQueue<T>(ctx: OperatorContext, write: (t: string) => void, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  const queue = (await ctx.connector()).deadLetterQueue;
  const say = (): undefined => {
    write(`${what}${deadLetterQueueMissing(queue)}\n`);
    return undefined;
  };
  if ((await (await ctx.queues()).depth(queue)) === null) return say();
  try {
    return await fn();
  } catch (err) {
    // Deleted between the check and the read: the same state.
    if (err instanceof MissingQueueError && err.queue === queue) return say();
    throw err;
  }
}

const cut = (s: string | undefined, n: number): string => {
  const v = (s ?? '-').replace(/\s+/g, ' ');
  return v.length > n ? `${v.slice(0, n - 1)}…` : v;
};

export function formatDeadLetterTable(messages: QueuedMessage[], now = new Date()): string {
  if (messages.length === 0) return 'the dead-letter queue is empty\n';
  const rows = messages.map((m) => [m.id, m.coverageId ?? '-', m.code ?? '-', String(m.attempts), agoText(m.firstFailure, now), agoText(m.lastFailure, now), cut(m.reason, 60)]);
  const head = ['ID', 'COVERAGE', 'CODE', 'ATTEMPTS', 'FIRST FAILURE', 'LAST FAILURE', 'REASON'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}\n`;
  return line(head) + rows.map(line).join('') + `${messages.length} dead letter(s)\n`;
}

/** Metadata without the body, for --json. */
export function deadLetterJson(m: QueuedMessage, withBody = false): Record<string, unknown> {
  const { body, properties, ...meta } = m;
  return { ...meta, content_type: properties.contentType ?? null, ...(withBody ? { body: bodyText(body) } : {}) };
}

function bodyText(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function formatDeadLetter(m: QueuedMessage, full: boolean, now = new Date()): string {
  const lines = [
    `id:             ${m.id}`,
    `message id:     ${m.messageId ?? '-'}`,
    `coverage:       ${m.coverageId ?? '-'}`,
    `work:           ${m.workId ?? '-'}`,
    `error code:     ${m.code ?? '-'}`,
    `reason:         ${m.reason ?? '-'}`,
    `attempts:       ${m.attempts}`,
    `first failure:  ${whenText(m.firstFailure, now)}`,
    `last failure:   ${whenText(m.lastFailure, now)}`,
    `original queue: ${m.originalQueue ?? '-'}`,
    `replays:        ${m.replays}`,
    `size:           ${m.bytes} bytes`,
  ];
  const body = bodyText(m.body);
  // stix_objects can be megabytes: shown only with --full.
  const event = (body as { event?: Record<string, unknown> } | null)?.event;
  if (!full && event && typeof event.stix_objects === 'string') {
    (body as { event: Record<string, unknown> }).event = { ...event, stix_objects: `<${event.stix_objects.length} characters; --full shows them>` };
  }
  return `${lines.join('\n')}\nbody:\n${typeof body === 'string' ? body : JSON.stringify(body, null, 2)}\n`;
}

interface CommonOpts {
  config?: string;
}
const ctxOptions = (opts: CommonOpts, io: CommandIo): { configFile?: string; env?: NodeJS.ProcessEnv } => ({
  ...(opts.config ? { configFile: opts.config } : {}),
  ...(io.env ? { env: io.env } : {}),
});
const CONFIG_OPTION = ['-c, --config <file>', 'config.yml to read (default: CONFIG_FILE, else ./config.yml when present)'] as const;

export function registerDlqCommand(program: Command, io: CommandIo = {}): void {
  const write = writerOf(io);
  const dlq = program.command('dlq').description("Inspect, replay or purge the connector's dead-letter queue");

  dlq
    .command('list')
    .description('List dead letters (id, coverage, reason, attempts, first/last failure); the queue is left unchanged')
    .option(...CONFIG_OPTION)
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10))
    .option('--json', 'JSON instead of the table')
    .action(async (opts: CommonOpts & { limit?: number; json?: boolean }) => {
      await withOperatorContext(ctxOptions(opts, io), async (ctx) => {
        const messages = await ifDeadLetterQueue(ctx, opts.json ? () => undefined : write, '', () => listDeadLetters(ctx, opts.limit));
        if (opts.json) write(`${JSON.stringify((messages ?? []).map((m) => deadLetterJson(m)), null, 2)}\n`);
        else if (messages) write(formatDeadLetterTable(messages));
      });
    });

  dlq
    .command('show')
    .description('Show one dead letter (by id, message id or coverage id): headers and body')
    .argument('<id>')
    .option(...CONFIG_OPTION)
    .option('--full', 'include stix_objects in full')
    .option('--json', 'JSON output')
    .action(async (id: string, opts: CommonOpts & { full?: boolean; json?: boolean }) => {
      await withOperatorContext(ctxOptions(opts, io), async (ctx) => {
        const found = await ifDeadLetterQueue(ctx, write, `no dead letter matches ${id}: `, () => showDeadLetter(ctx, id));
        if (!found) {
          process.exitCode = 1;
          return;
        }
        if (found.length === 0) {
          write(`no dead letter matches ${id}\n`);
          process.exitCode = 1;
          return;
        }
        write(opts.json ? `${JSON.stringify(found.map((m) => deadLetterJson(m, true)), null, 2)}\n` : found.map((m) => formatDeadLetter(m, opts.full === true)).join('\n'));
      });
    });

  dlq
    .command('replay')
    .description('Move dead letters back onto the listen queue (each acked from the DLQ only after the broker confirmed the copy)')
    .argument('[id...]', 'dead-letter ids, message ids or coverage ids')
    .option(...CONFIG_OPTION)
    .option('--all', 'replay every dead letter')
    .action(async (ids: string[], opts: CommonOpts & { all?: boolean }) => {
      if (ids.length === 0 && !opts.all) throw new Error('name the dead letters to replay, or pass --all');
      await withOperatorContext(ctxOptions(opts, io), async (ctx) => {
        const view = await ctx.connector();
        const queues = await ctx.queues();
        const result = await ifDeadLetterQueue(ctx, write, 'nothing to replay: ', async () => {
          const total = opts.all ? ((await queues.depth(view.deadLetterQueue)) ?? 0) : ids.length;
          const progress = createProgress({ label: 'replay', total, ...(io.progressStream ? { stream: io.progressStream } : {}) });
          try {
            return await replayDeadLetters(ctx, { ids, ...(opts.all ? { all: true } : {}) }, (m) => progress.tick(m.id));
          } finally {
            progress.stop();
          }
        });
        if (!result) {
          // Named dead letters that cannot exist are not found; "--all" of nothing is done.
          if (!opts.all) process.exitCode = 1;
          return;
        }
        for (const m of result.moved) write(`replayed ${m.id} (coverage ${m.coverageId ?? '-'}, attempts ${m.attempts})\n`);
        write(`replayed ${result.moved.length} dead letter(s) to ${view.listenQueue}; ${result.kept} left in ${view.deadLetterQueue}\n`);
        if (result.error) {
          write(`stopped: ${result.error} (that message and the rest are still in the dead-letter queue)\n`);
          process.exitCode = 1;
        } else if (!opts.all) {
          const missing = ids.filter((id) => !result.moved.some((m) => matchesId(m, id)));
          if (missing.length > 0) {
            write(`not found: ${missing.join(', ')}\n`);
            process.exitCode = 1;
          }
        }
      });
    });

  dlq
    .command('purge')
    .description('Delete every dead letter (needs --yes)')
    .option(...CONFIG_OPTION)
    .option('--yes', 'confirm')
    .action(async (opts: CommonOpts & { yes?: boolean }) => {
      await withOperatorContext(ctxOptions(opts, io), async (ctx) => {
        const view = await ctx.connector();
        await ifDeadLetterQueue(ctx, write, 'nothing to purge: ', async () => {
          if (!opts.yes) {
            const depth = await (await ctx.queues()).depth(view.deadLetterQueue);
            if (!depth) {
              write(`nothing to purge: ${view.deadLetterQueue} is empty\n`);
              return;
            }
            throw new Error(`purge would delete ${depth ?? 0} dead letter(s) from ${view.deadLetterQueue}; add --yes to confirm`);
          }
          const count = await purgeDeadLetters(ctx);
          write(`purged ${count} dead letter(s) from ${view.deadLetterQueue}\n`);
        });
      });
    });
}
