import { join, resolve } from 'node:path';
import { kibanaRulesFromToml, startFakeKibana } from '../test/support/fake-kibana/server';
import { sentinelFromTemplates, startFakeSentinel } from '../test/support/fake-sentinel/server';
import { splunkJob, splunkSearchesFromDetections, startFakeSplunk } from '../test/support/fake-splunk/server';
import { startFakeWazuh, wazuhRulesFromXml } from '../test/support/fake-wazuh/server';

/**
 * Starts the test stand-in of one SIEM API, loaded with the real rule samples of ../shared/samples,
 * and prints the settings that point the connector at it (README, "Rules where they live"):
 *
 *   npx ts-node --transpile-only scripts/siem-standin.ts kibana|splunk|sentinel|wazuh [samples dir]
 *
 * Loopback only; stops on Ctrl-C. One rule of each set is made to fail (Kibana, Splunk) so the
 * "enabled but failing" explanation shows.
 */

const which = process.argv[2];
const samples = resolve(process.argv[3] ?? join(__dirname, '../../shared/samples'));
const print = (env: Record<string, string>): void => {
  for (const [k, v] of Object.entries(env)) process.stdout.write(`export ${k}='${v}'\n`);
  process.stdout.write('# stand-in running; Ctrl-C stops it\n');
};

async function main(): Promise<void> {
  switch (which) {
    case 'kibana': {
      const rules = await kibanaRulesFromToml(join(samples, 'elastic/rules'));
      const broken = rules.find((r) => r.name === 'Systemd Shell Execution During Boot') ?? rules[0];
      broken.execution_summary = { last_execution: { date: new Date(Date.now() - 3_600_000).toISOString(), status: 'failed', message: 'index_not_found_exception: no such index [logs-endpoint.events.process*]' } };
      const api = await startFakeKibana({ apiKey: 'standin-api-key', spaces: { default: rules } });
      return print({ ELASTIC_SECURITY_URL: api.url, ELASTIC_SECURITY_API_KEY: 'standin-api-key' });
    }
    case 'splunk': {
      const searches = await splunkSearchesFromDetections(join(samples, 'splunk/detections'));
      const api = await startFakeSplunk({ token: 'standin-token', searches, jobs: [splunkJob(searches[0].name, new Date(Date.now() - 3_600_000).toISOString(), true)] });
      return print({ SPLUNK_URL: api.url, SPLUNK_TOKEN: 'standin-token' });
    }
    case 'sentinel': {
      const ids = { tenantId: 'tenant-standin', clientId: 'client-standin', clientSecret: 'standin-secret', subscriptionId: 'sub-standin', resourceGroup: 'soc-rg', workspace: 'soc-ws' };
      const data = await sentinelFromTemplates(join(samples, 'sentinel'), `/subscriptions/${ids.subscriptionId}/resourceGroups/${ids.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${ids.workspace}/providers/Microsoft.SecurityInsights`);
      const api = await startFakeSentinel({ ...ids, ...data });
      return print({
        SENTINEL_TENANT_ID: ids.tenantId,
        SENTINEL_CLIENT_ID: ids.clientId,
        SENTINEL_CLIENT_SECRET: ids.clientSecret,
        SENTINEL_SUBSCRIPTION_ID: ids.subscriptionId,
        SENTINEL_RESOURCE_GROUP: ids.resourceGroup,
        SENTINEL_WORKSPACE: ids.workspace,
        SENTINEL_AUTHORITY_URL: api.url,
        SENTINEL_MANAGEMENT_URL: api.url,
        SENTINEL_API_VERSION: '2025-07-01-preview',
      });
    }
    case 'wazuh': {
      const api = await startFakeWazuh({ user: 'coverage', password: 'standin-password', rules: await wazuhRulesFromXml(join(samples, 'wazuh/ruleset/rules')) });
      return print({ WAZUH_API_URL: api.url, WAZUH_API_USER: 'coverage', WAZUH_API_PASSWORD: 'standin-password' });
    }
    default:
      process.stderr.write('usage: siem-standin.ts kibana|splunk|sentinel|wazuh [samples dir]\n');
      process.exitCode = 2;
  }
}

void main();
