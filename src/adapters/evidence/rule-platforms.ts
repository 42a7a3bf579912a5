import { normalisePlatform } from '../../domain/coverage/platforms';

/**
 * What platform a rule runs on, read from what it queries (docs/evidence-formats.md, "Platforms").
 * Each data-source key of a rule is classified as one or more platforms, as ANY (an OS-independent
 * sensor: proxy, firewall, IDS, DNS, threat-intel feeds — what it sees is the same whatever the endpoint
 * runs), or unknown. The rule runs on:
 *   - every platform (empty list) when one of its sources is ANY, or when none could be placed;
 *   - otherwise the union of its sources' platforms (a rule reading "Sysmon EventID 1" or "CrowdStrike
 *     ProcessRollup2" is a Windows rule: the cross-platform EDR is only an alternative feed).
 */

const ANY = 'any';
type Placed = string[] | typeof ANY | undefined;

/** First matching pattern wins; keys are matched lower-case. */
type Table = ReadonlyArray<readonly [RegExp, string[] | typeof ANY]>;

function classify(key: string, table: Table): Placed {
  for (const [pattern, platforms] of table) if (pattern.test(key)) return platforms;
  return undefined;
}

/** The rule's platforms from its classified sources (see above); [] = every platform. */
function combine(placed: Placed[]): string[] {
  if (placed.includes(ANY)) return [];
  const out: string[] = [];
  for (const p of placed) if (Array.isArray(p)) for (const q of p) if (!out.includes(q)) out.push(q);
  return out;
}

const NETWORK_SENSORS = /zeek|corelight|suricata|snort|zscaler|umbrella|infoblox|palo ?alto|panw|pan-os|fortinet|fortigate|checkpoint|cisco ?asa|firewall|proxy|squid|dns|network_traffic|netflow|threat ?intel|maltiverse/;

// ── Sigma: logsource.product (then service, for the cloud products that mix identity and IaaS) ──

const SIGMA_PRODUCTS: Record<string, string[] | typeof ANY> = {
  windows: ['windows'],
  rpc_firewall: ['windows'],
  linux: ['linux'],
  macos: ['macos'],
  aws: ['iaas'],
  gcp: ['iaas'],
  azure: ['iaas'],
  m365: ['office-suite'],
  google_workspace: ['office-suite'],
  okta: ['identity-provider'],
  onelogin: ['identity-provider'],
  github: ['saas'],
  bitbucket: ['saas'],
  gitlab: ['saas'],
  kubernetes: ['containers'],
  cisco: ['network-devices'],
  juniper: ['network-devices'],
  huawei: ['network-devices'],
  fortios: ['network-devices'],
  paloalto: ['network-devices'],
  zeek: ANY,
};
const AZURE_IDENTITY_SERVICES = new Set(['signinlogs', 'auditlogs', 'riskdetection', 'pim']);

export function sigmaPlatforms(logsource: { product?: string; category?: string; service?: string }): string[] {
  const product = logsource.product?.trim().toLowerCase();
  const service = logsource.service?.trim().toLowerCase();
  if (!product) {
    // proxy, firewall, dns, webserver…: network or application logs, whatever the endpoints run.
    return [];
  }
  if (product === 'azure' && service && AZURE_IDENTITY_SERVICES.has(service)) return ['identity-provider'];
  const placed = SIGMA_PRODUCTS[product];
  return Array.isArray(placed) ? [...placed] : [];
}

// ── Elastic: "OS: Windows" tags, then host.os.type in the query, then index patterns ─────────────

const OS_TAG = /^os:\s*(.+)$/i;
const HOST_OS_IN_QUERY = /host\.os\.(?:type|family|platform)\s*(?:==|:)\s*\(?\s*"?(windows|linux|macos|darwin)"?(?:\s+or\s+"?(windows|linux|macos|darwin)"?)*/gi;

const ELASTIC_INDEXES: Table = [
  [/^(winlogbeat|logs-windows\.|logs-system\.(security|application|system)|logs-sysmon)/, ['windows']],
  [/^(logs-auditd|auditbeat|logs-auditd_manager)/, ['linux']],
  [/^(logs-jamf|logs-macos)/, ['macos']],
  [/^logs-azure\.(signinlogs|auditlogs|identity_protection|graphactivitylogs)/, ['identity-provider']],
  [/^(logs-aws|logs-azure|logs-gcp)/, ['iaas']],
  [/^(logs-o365|logs-google_workspace)/, ['office-suite']],
  [/^(logs-okta|logs-entityanalytics_okta)/, ['identity-provider']],
  [/^logs-github/, ['saas']],
  [/^(logs-kubernetes|logs-cloud_defend)/, ['containers']],
  [/^(logs-network_traffic|logs-zeek|logs-corelight|logs-panw|logs-pfsense|logs-fortinet|logs-suricata|packetbeat|logs-ti_)/, ANY],
];

export function elasticPlatforms(rule: { tags?: string[]; query?: string; index?: string[] }): string[] {
  const tagged = (rule.tags ?? []).map((t) => OS_TAG.exec(t.trim())?.[1]).filter((t): t is string => t !== undefined);
  const fromTags = tagged.map((t) => normalisePlatform(t)).filter((p): p is string => p !== undefined);
  if (fromTags.length > 0) return [...new Set(fromTags)];
  const fromQuery = new Set<string>();
  for (const m of (rule.query ?? '').matchAll(HOST_OS_IN_QUERY)) {
    for (const os of m[0].match(/windows|linux|macos|darwin/gi) ?? []) fromQuery.add(os.toLowerCase() === 'darwin' ? 'macos' : os.toLowerCase());
  }
  if (fromQuery.size > 0) return [...fromQuery];
  return combine((rule.index ?? []).map((i) => classify(i.trim().toLowerCase(), ELASTIC_INDEXES)));
}

// ── Splunk: data_source names, then tags.asset_type ────────────────────────────────────────────

const SPLUNK_SOURCES: Table = [
  [/^sysmon for linux|linux|auditd|osquery.*linux/, ['linux']],
  [/^(sysmon|windows|powershell|wineventlog|microsoft windows)/, ['windows']],
  [/^(macos|osquery.*mac|jamf)/, ['macos']],
  [/^aws/, ['iaas']],
  [/^(azure active directory|azure ad|entra)/, ['identity-provider']],
  [/^(azure|gcp|google cloud)/, ['iaas']],
  [/^(o365|office 365|microsoft 365|gsuite|google workspace)/, ['office-suite']],
  [/^okta/, ['identity-provider']],
  [/^(kubernetes|k8s)/, ['containers']],
  [/^(github|gitlab)/, ['saas']],
  [NETWORK_SENSORS, ANY],
];
const SPLUNK_ASSET_TYPES: Table = [
  [/^aws/, ['iaas']],
  [/azure active directory|identity/, ['identity-provider']],
  [/o365|gsuite|google workspace/, ['office-suite']],
  [/kubernetes/, ['containers']],
  [/vpn|firewall|network/, ['network-devices']],
];

export function splunkPlatforms(dataSources: readonly string[], assetType: string | undefined): string[] {
  const fromSources = combine(dataSources.map((s) => classify(s.trim().toLowerCase(), SPLUNK_SOURCES)));
  if (fromSources.length > 0 || dataSources.some((s) => classify(s.trim().toLowerCase(), SPLUNK_SOURCES) === ANY)) return fromSources;
  const byAsset = assetType ? classify(assetType.trim().toLowerCase(), SPLUNK_ASSET_TYPES) : undefined;
  return Array.isArray(byAsset) ? [...byAsset] : [];
}

// ── Sentinel: requiredDataConnectors connector ids ─────────────────────────────────────────────

const SENTINEL_CONNECTORS: Table = [
  [/^(securityevents|windowssecurityevents|windowsforwardedevents|windowsfirewall|dns$)/, ['windows']],
  [/^(syslog|syslogama)$/, ['linux']],
  [/^(azureactivedirectory|azureactivedirectoryidentityprotection)$/, ['identity-provider']],
  [/^office365$/, ['office-suite']],
  [/^(azureactivity|aws|awss3|gcp)$/, ['iaas']],
  [NETWORK_SENSORS, ANY],
];

export function sentinelPlatforms(connectorIds: readonly string[]): string[] {
  return combine(connectorIds.map((c) => classify(c.trim().toLowerCase(), SENTINEL_CONNECTORS)));
}

// ── Wazuh: the ruleset file's <group> names ────────────────────────────────────────────────────

const WAZUH_GROUPS: Table = [
  [/^(windows|windows_security|sysmon|powershell|ipsec)$/, ['windows']],
  [/^(sshd|syslog|audit|auditd|linux|pam|sudo)$/, ['linux']],
  [/^ms-graph$/, ['identity-provider', 'office-suite']],
  [/^(maltiverse|ossec)$/, ANY],
];

export function wazuhPlatforms(groups: readonly string[]): string[] {
  return combine(groups.map((g) => classify(g, WAZUH_GROUPS)));
}
