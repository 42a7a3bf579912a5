import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../app/config';
import { coverageHistory, coverageTrendSvg, formatCoverageHistory, formatCoverageList } from '../app/history/history-report';
import { historyStoreOf } from '../app/history/history-setup';
import { writerOf, type CommandIo } from './progress';

/**
 * `history [coverage-id]` — the score history an operator reads (docs/history.md): without an id,
 * every coverage with runs; with one (standard or internal id), its runs newest first with relative
 * dates, scores and what changed, and its open regressions. Reads the configured store only (no
 * platform or broker needed). Exit code 1 when the coverage has no recorded run.
 */

interface HistoryFlags {
  config?: string;
  limit: string;
  json?: boolean;
  technique?: string;
  svg?: string;
}

export function registerHistoryCommand(program: Command, io: CommandIo & { stderr?: (text: string) => void } = {}): void {
  program
    .command('history')
    .description('Score history of a coverage: runs, scores, what changed, open regressions (docs/history.md)')
    .argument('[coverage-id]', 'standard (security-coverage--…) or internal id; omitted: list the coverages with history')
    .option('-c, --config <file>', 'config.yml to read (default: CONFIG_FILE, else ./config.yml when present)')
    .option('--limit <n>', 'most recent runs shown', '30')
    .option('--technique <id>', 'also show this ATT&CK technique\'s scores at each run')
    .option('--svg <file>', 'write the score trend of the runs shown as an SVG image')
    .option('--json', 'JSON output')
    .action(async (coverage: string | undefined, flags: HistoryFlags) => {
      const write = writerOf(io);
      const stderr = io.stderr ?? ((t: string) => void process.stderr.write(t));
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive integer (got ${flags.limit})`);
      const config = loadConfig({ ...(flags.config ? { file: flags.config } : {}), ...(io.env ? { env: io.env } : {}) });
      if (!config.history.enabled) stderr('note: HISTORY_ENABLED=false: the daemon is not recording runs; showing what the store holds\n');
      const now = io.now?.() ?? new Date();
      const store = historyStoreOf(config);
      try {
        if (!coverage) {
          const coverages = await store.coverages({ limit });
          write(flags.json ? `${JSON.stringify({ store: store.description, coverages }, null, 2)}\n` : formatCoverageList(coverages, store.description, now));
          return;
        }
        const report = await coverageHistory(store, coverage, { limit, ...(flags.technique ? { technique: flags.technique } : {}) });
        if (!report) {
          stderr(`no run recorded for ${coverage} in ${store.description}\n`);
          process.exitCode = 1;
          return;
        }
        if (flags.svg) await writeFile(flags.svg, coverageTrendSvg(report), 'utf8');
        write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatCoverageHistory(report, now));
        if (flags.svg && !flags.json) write(`wrote ${flags.svg}\n`);
      } finally {
        await store.close();
      }
    });
}
