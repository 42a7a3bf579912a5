import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadRulesFromDirs } from '../src/adapters/evidence/rule-files';
import type { RuleSource } from '../src/adapters/evidence/rule-source';
import { parseConfig } from '../src/app/config';
import { createRuleSource } from '../src/app/rule-sources';
import { kibanaRulesFromToml, startFakeKibana } from '../test/support/fake-kibana/server';
import { sentinelFromTemplates, startFakeSentinel } from '../test/support/fake-sentinel/server';
import { splunkSearchesFromDetections, startFakeSplunk } from '../test/support/fake-splunk/server';
import { startFakeWazuh, wazuhRulesFromXml } from '../test/support/fake-wazuh/server';

/**
 * Load time and memory of 6,000 rules per SIEM rule source (the stand-ins on loopback, fed with the
 * ../shared samples repeated under new ids), and of 6,000 Sentinel YAML / Wazuh XML rules from files.
 *
 *   npx ts-node --transpile-only bench/rule-sources.ts [rules per source, default 6000]
 *
 * Each source is read 3 times with the default page size (500); the median time is printed with the
 * process RSS afterwards (stand-in and connector share the process, so it is an upper bound).
 */

const N = Number(process.argv[2] ?? 6000);
const SAMPLES = resolve(__dirname, '../../shared/samples');
const gc = (globalThis as { gc?: () => void }).gc;

const repeat = <T>(items: T[], n: number, rename: (item: T, i: number) => T): T[] => Array.from({ length: n }, (_, i) => rename(structuredClone(items[i % items.length]), i));

const held: unknown[][] = [];

async function measure(label: string, run: () => Promise<unknown[]>): Promise<void> {
  const times: number[] = [];
  let rules = 0;
  let kept = 0;
  for (let i = 0; i < 3; i += 1) {
    held.length = 0;
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    // Held while measuring: the heap kept is what the inventory in force costs.
    held.length = 0;
    held.push(await run());
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    rules = held[0].length;
    gc?.();
    const withInventory = process.memoryUsage().heapUsed;
    held.length = 0;
    gc?.();
    kept = Math.max(withInventory - before, withInventory - process.memoryUsage().heapUsed);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(`${label.padEnd(34)} ${String(rules).padStart(6)} scored rules  median ${times[1].toFixed(0).padStart(5)} ms  (min ${times[0].toFixed(0)}, max ${times[2].toFixed(0)})  rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB\n`);
}

async function viaSource(make: () => RuleSource): Promise<unknown[]> {
  const source = make();
  try {
    return (await source.fetch()).rules;
  } finally {
    await source.close();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`node ${process.version}, ${N} rules per source${gc ? '' : ' (run with --expose-gc for heap figures after GC)'}\n`);
  const kibanaRules = repeat(await kibanaRulesFromToml(join(SAMPLES, 'elastic/rules')), N, (r, i) => ({ ...r, rule_id: `${r.rule_id}-${i}` }));
  const kibana = await startFakeKibana({ apiKey: 'k', spaces: { default: kibanaRules } });
  const splunk = await startFakeSplunk({ token: 't', searches: repeat(await splunkSearchesFromDetections(join(SAMPLES, 'splunk/detections')), N, (s, i) => ({ ...s, name: `${s.name} ${i}` })) });
  const ws = '/subscriptions/s/resourceGroups/g/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights';
  const sentinelData = await sentinelFromTemplates(join(SAMPLES, 'sentinel'), ws);
  const sentinel = await startFakeSentinel({
    tenantId: 'tn', clientId: 'c', clientSecret: 's', subscriptionId: 's', resourceGroup: 'g', workspace: 'w', templates: sentinelData.templates, pageSize: 500,
    alertRules: repeat(sentinelData.alertRules, N, (r, i) => ({ ...r, name: `rule-${i}` })),
  });
  const wazuhRules = await wazuhRulesFromXml(join(SAMPLES, 'wazuh/ruleset/rules'));
  const wazuh = await startFakeWazuh({ user: 'u', password: 'p', rules: repeat(wazuhRules, N, (r, i) => ({ ...r, id: 100000 + i })) });
  const config = parseConfig({
    elastic_security: { url: kibana.url, api_key: 'k' },
    splunk: { url: splunk.url, token: 't', check_jobs: false },
    sentinel: { tenant_id: 'tn', client_id: 'c', client_secret: 's', subscription_id: 's', resource_group: 'g', workspace: 'w', authority_url: sentinel.url, management_url: sentinel.url, api_version: '2025-07-01-preview' },
    wazuh: { api_url: wazuh.url, api_user: 'u', api_password: 'p' },
  });
  try {
    for (const name of ['kibana', 'splunk', 'sentinel', 'wazuh'] as const) await measure(`live ${name} (stand-in, page 500)`, () => viaSource(() => createRuleSource(config, name)));
  } finally {
    await Promise.all([kibana.close(), splunk.close(), sentinel.close(), wazuh.close()]);
  }

  // Files: N Sentinel templates (one per file) and Wazuh XML holding N technique rules (100 rules a file).
  const dir = mkdtempSync(join(tmpdir(), 'bench-rule-files-'));
  try {
    const template = readFileSync(join(SAMPLES, 'sentinel/Solutions/Windows Security Events/Analytic Rules/ScheduleTaskHide.yaml'), 'utf8');
    for (let i = 0; i < N; i += 1) writeFileSync(join(dir, `sentinel-${i}.yaml`), template.replace(/^id: .*$/m, `id: 6dd2629c-534b-4275-8201-${String(i).padStart(12, '0')}`));
    await measure('files sentinel (YAML, 1 rule/file)', async () => (await loadRulesFromDirs([dir])).rules);
    rmSync(dir, { recursive: true, force: true });
    const rule = (id: number): string => `  <rule id="${id}" level="10">\n    <if_sid>5710</if_sid>\n    <description>sshd: brute force ${id}</description>\n    <mitre>\n      <id>T1110</id>\n      <id>T1021.004</id>\n    </mitre>\n    <group>authentication_failures,pci_dss_11.4,gdpr_IV_35.7.d,</group>\n  </rule>\n`;
    const wdir = mkdtempSync(join(tmpdir(), 'bench-wazuh-'));
    for (let f = 0; f < N / 100; f += 1) writeFileSync(join(wdir, `${1000 + f}-bench_rules.xml`), `<group name="syslog,sshd,">\n${Array.from({ length: 100 }, (_, i) => rule(200000 + f * 100 + i)).join('')}</group>\n`);
    await measure('files wazuh (XML, 100 rules/file)', async () => (await loadRulesFromDirs([wdir])).rules);
    rmSync(wdir, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
