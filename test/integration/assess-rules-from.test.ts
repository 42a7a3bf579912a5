import { Command } from 'commander';
import { registerAssessCommand } from '../../src/cli/assess-command';
import { PROJECT_DIR } from '../support/env';
import { startFakeKibana, type FakeKibana, type KibanaRuleJson } from '../support/fake-kibana/server';

/** `assess --rules-from kibana`: the rules Kibana runs, with the daemon's settings from the environment. */

const API_KEY = 'YXNzZXNzLWtleTpzM2NyM3Q=';

function kibanaRule(ruleId: string, name: string, technique: string, status: string): KibanaRuleJson {
  return {
    rule_id: ruleId,
    name,
    enabled: true,
    immutable: false,
    severity: 'high',
    risk_score: 73,
    index: ['logs-endpoint.events.process-*'],
    threat: [{ framework: 'MITRE ATT&CK', tactic: { id: 'TA0002', name: 'Execution', reference: 'https://attack.mitre.org/tactics/TA0002/' }, technique: [{ id: technique, name: 'x', reference: 'https://attack.mitre.org/' }] }],
    execution_summary: { last_execution: { date: '2026-02-11T22:00:00.000Z', status, message: status === 'failed' ? 'verification_exception: Unknown column [process.parent.name]' : 'ok' } },
  };
}

async function assess(args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const program = new Command().exitOverride();
  registerAssessCommand(program, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  const saved = { ...process.env };
  const cwd = process.cwd();
  const previous = process.exitCode;
  Object.assign(process.env, env, { CONFIG_FILE: '' });
  delete process.env.CONFIG_FILE;
  process.chdir(PROJECT_DIR);
  try {
    process.exitCode = 0;
    await program.parseAsync(['assess', ...args], { from: 'user' });
    return { status: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.exitCode = previous;
    process.chdir(cwd);
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe('assess --rules-from kibana', () => {
  let kibana: FakeKibana;
  beforeAll(async () => {
    kibana = await startFakeKibana({
      apiKey: API_KEY,
      spaces: { default: [kibanaRule('k-ok', 'Kibana: encoded PowerShell', 'T1059.001', 'succeeded'), kibanaRule('k-broken', 'Kibana: LSASS access', 'T1003.001', 'failed')] },
    });
  });
  afterAll(() => kibana.close());

  it('scores the rules Kibana runs and explains the failing one', async () => {
    const run = await assess(['config/examples/report-apt-example.json', '--rules-from', 'kibana', '--explain', 'T1059.001,T1003.001', '--now', '2026-02-12T09:00:00.000Z'], {
      ELASTIC_SECURITY_URL: kibana.url,
      ELASTIC_SECURITY_API_KEY: API_KEY,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Kibana: encoded PowerShell/);
    expect(run.stdout).toMatch(/rule "Kibana: LSASS access" is enabled but failing since 2026-02-11T22:00:00.000Z/);
    expect(run.stdout).toMatch(/not counted: "Kibana: LSASS access" \(failing\)/);
    expect(kibana.requests[0].headers.authorization).toBe(`ApiKey ${API_KEY}`);
  });

  it('stops with exit 2 naming the source and the missing setting, or the refusal', async () => {
    const missing = await assess(['config/examples/report-apt-example.json', '--rules-from', 'kibana'], { ELASTIC_SECURITY_URL: kibana.url });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('error: --rules-from kibana: rule source kibana: missing ELASTIC_SECURITY_API_KEY\n');
    const refused = await assess(['config/examples/report-apt-example.json', '--rules-from', 'kibana'], { ELASTIC_SECURITY_URL: kibana.url, ELASTIC_SECURITY_API_KEY: 'wrong' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^error: --rules-from kibana: http:\/\/127\.0\.0\.1:\d+ space default: GET .* HTTP 401 \(credentials refused\)/);
  });
});
