/**
 * Platforms in one vocabulary: OpenCTI's `platforms_ov` keys (windows, macos, linux, android) and, for
 * what ATT&CK names beyond them, its own platform names lower-cased with dashes ("Network Devices" →
 * network-devices, "Identity Provider" → identity-provider). A coverage's `platforms_affinity`, a
 * technique's `x_mitre_platforms`, a rule's and a control's platforms all go through `normalisePlatform`,
 * so they compare equal whichever spelling the source used.
 */

const ALIASES: Record<string, string> = {
  win: 'windows',
  windows: 'windows',
  mac: 'macos',
  macos: 'macos',
  osx: 'macos',
  'mac-os': 'macos',
  'os-x': 'macos',
  linux: 'linux',
  unix: 'linux',
  android: 'android',
  ios: 'ios',
  network: 'network-devices',
  'network-devices': 'network-devices',
  containers: 'containers',
  container: 'containers',
  iaas: 'iaas',
  saas: 'saas',
  'office-suite': 'office-suite',
  'office-365': 'office-suite',
  'identity-provider': 'identity-provider',
  'azure-ad': 'identity-provider',
  'google-workspace': 'office-suite',
  esxi: 'esxi',
  pre: 'pre',
};

/** Every platform name the vocabulary knows (what `--platforms` accepts). */
export const KNOWN_PLATFORMS: readonly string[] = [...new Set(Object.values(ALIASES))];

/** "macOS" → macos, "Network Devices" → network-devices, "Office 365" → office-suite; empty → undefined. */
export function normalisePlatform(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const key = value.trim().toLowerCase().replace(/[\s_]+/g, '-');
  if (key === '') return undefined;
  return ALIASES[key] ?? key;
}

/** Normalised, de-duplicated, in first-seen order. */
export function normalisePlatforms(values: readonly unknown[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    const p = normalisePlatform(v);
    if (p && !out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * Does something declared for `declared` platforms apply on `platform`? An empty or absent list means
 * "not tied to a platform" (a proxy or firewall rule, a control with no platform): it applies everywhere.
 */
export function runsOn(declared: readonly string[] | undefined, platform: string): boolean {
  return !declared || declared.length === 0 || declared.includes(platform);
}
