import type { Command } from 'commander';
import { platformClientOptionsOf } from '../app/platform-options';
import { createGraphQLClient, type GraphQLClient } from '../adapters/opencti/graphql-client';
import { assertDaemonConfig, loadConfig } from '../app/config';
import { schedulePolicyOf } from '../app/scheduler/scheduler-setup';
import { createPlatformCoverageSource } from '../app/scheduler/scheduler-platform';
import { formatScheduleTable, listSchedule, planToJson } from '../app/scheduler/scheduler-report';
import type { Config } from '../../schemas/config';

/** Injection points for tests (a fake platform, a fixed clock, captured output). */
export interface ScheduleCommandIo {
  gqlFor?: (config: Readonly<Config>) => Pick<GraphQLClient, 'request'> & { close?: () => void };
  now?: () => Date;
  write?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
}

const STATUSES = ['scheduled', 'due', 'running', 'finished', 'manual', 'invalid'];

/** `schedule list` — every coverage's schedule as the scheduler computes it, read from the platform. */
export function registerScheduleCommand(program: Command, io: ScheduleCommandIo = {}): void {
  const schedule = program.command('schedule').description('Periodic re-assessment of coverages (docs/scheduling.md)');
  schedule
    .command('list')
    .description('List every coverage with its next run, last run, periodicity, remaining duration and status')
    .option('-c, --config <file>', 'config.yml to read (default: CONFIG_FILE, else ./config.yml when present)')
    .option('--status <status>', `only this status (${STATUSES.join(', ')}; "invalid" = invalid periodicity or duration)`)
    .option('--json', 'one JSON array instead of the table')
    .action(async (opts: { config?: string; status?: string; json?: boolean }) => {
      if (opts.status && !STATUSES.includes(opts.status)) {
        throw new Error(`--status must be one of ${STATUSES.join(', ')}`);
      }
      const config = loadConfig({ ...(opts.config ? { file: opts.config } : {}), ...(io.env ? { env: io.env } : {}) });
      assertDaemonConfig(config);
      const policy = schedulePolicyOf(config);
      const gql =
        io.gqlFor?.(config) ??
        createGraphQLClient(platformClientOptionsOf(config));
      try {
        const source = createPlatformCoverageSource({ gql, connectorId: config.connector.id as string, withJobs: true });
        const now = (io.now ?? (() => new Date()))();
        let plans = await listSchedule(source, policy, now);
        if (opts.status === 'invalid') plans = plans.filter((p) => p.issues.some((i) => i.code.startsWith('invalid-')));
        else if (opts.status) plans = plans.filter((p) => p.status === opts.status);
        const write = io.write ?? ((t: string) => process.stdout.write(t));
        write(opts.json ? `${JSON.stringify(plans.map(planToJson), null, 2)}\n` : formatScheduleTable(plans, now));
      } finally {
        gql.close?.();
      }
    });
}
