import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { Command } from 'commander';
import { registerScheduleCommand } from '../../../src/cli/schedule-command';
import { createSchedulePlatform, inProcessGraphQL } from '../../support/fake-opencti/schedule-ops';
import { describeWithShared, sharedPath } from '../../support/env';

const CONNECTOR = '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11';

describeWithShared('coverage-connector schedule list', () => {
  const schema = buildSchema(readFileSync(sharedPath('reference/opencti-schema.graphql'), 'utf8'));
  const now = new Date('2026-03-10T12:00:00Z');
  const env = { OPENCTI_URL: 'http://opencti.invalid', OPENCTI_TOKEN: 'x', CONNECTOR_ID: CONNECTOR, CONFIG_FILE: '' } as NodeJS.ProcessEnv;

  async function run(args: string[]): Promise<string> {
    const platform = createSchedulePlatform({ connectorId: CONNECTOR, now: () => now, pageSize: 2 });
    platform.add({ name: 'Daily', createdAt: new Date('2026-03-01T00:00:00Z'), lastResultAt: new Date('2026-03-10T08:00:00Z') });
    platform.add({ name: 'Overdue', createdAt: new Date('2026-03-01T00:00:00Z'), lastResultAt: new Date('2026-03-08T08:00:00Z'), periodicity: 'PT30M' });
    platform.add({ name: 'Zero period', createdAt: new Date('2026-03-01T00:00:00Z'), lastResultAt: new Date('2026-03-10T06:00:00Z'), periodicity: 'PT0S' });
    platform.add({ name: 'Expired', createdAt: new Date('2026-01-01T00:00:00Z'), lastResultAt: new Date('2026-01-30T08:00:00Z') });
    platform.add({ name: 'Manual input', createdAt: new Date('2026-03-01T00:00:00Z'), manual: true });
    const running = platform.add({ name: 'In flight', createdAt: new Date('2026-03-01T00:00:00Z'), lastResultAt: new Date('2026-03-09T11:50:00Z') });
    platform.works.push({ id: 'w1', connectorId: CONNECTOR, coverageId: running.standardId, timestamp: new Date('2026-03-10T11:50:00Z'), status: 'progress' });
    let out = '';
    const program = new Command().exitOverride();
    registerScheduleCommand(program, { gqlFor: () => inProcessGraphQL(schema, platform.rootValue), now: () => now, write: (t) => (out += t), env });
    await program.parseAsync(['node', 'cli', 'schedule', 'list', ...args]);
    return out;
  }

  it('lists every coverage with its status, next run, last run, periodicity and remaining duration', async () => {
    const out = await run([]);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^COVERAGE\s+STATUS\s+NEXT RUN\s+LAST RUN\s+PERIODICITY\s+REMAINING$/);
    expect(lines[1]).toMatch(/^Overdue\s+due\s+2 days ago\s+2 days ago\s+PT30M\s+20d 12h$/);
    expect(lines[2]).toMatch(/^In flight\s+running\s+in 50 minutes\s+10 minutes ago\s+P1D\s+20d 12h$/);
    expect(out).toMatch(/Zero period\s+scheduled, invalid-periodicity\s+in 18 hours/);
    expect(out).toMatch(/Daily\s+scheduled\s+in 20 hours/);
    expect(out).toMatch(/Expired\s+finished\s+-/);
    expect(out).toMatch(/Manual input\s+manual\s+-/);
    expect(out).toContain('Zero period: periodicity "PT0S" is zero; using the default P1D');
    expect(out).toContain('6 coverage(s): 1 due, 1 running, 2 scheduled, 1 finished, 1 manual');
  });

  it('filters by status and prints JSON', async () => {
    const rows = JSON.parse(await run(['--status', 'invalid', '--json'])) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: 'Zero period', status: 'scheduled', periodicity: 'P1D', next_run: '2026-03-11T06:00:00.000Z' });
  });
});
