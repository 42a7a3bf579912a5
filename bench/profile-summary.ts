import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/**
 * `npx ts-node --transpile-only bench/profile-summary.ts <file.cpuprofile> [top]` — self time per
 * function and per file of a `--cpu-prof` profile (npm run bench -- --profile writes them in
 * bench/profiles/), to find the hot path without opening DevTools.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarise(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const shortUrl = (url: string): string => {
    const path = url.replace(/^file:\/\//, '');
    const nm = path.lastIndexOf('node_modules/');
    if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
    const build = path.search(/\/(src|bench|test|schemas)\//);
    return build >= 0 ? path.slice(build + 1) : relative(process.cwd(), path) || path || '(native)';
  };
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of self) {
    const { callFrame: f } = byId.get(id) as ProfileNode;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '(native)';
    const key = `${f.functionName || '(anonymous)'} ${where}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const fileKey = f.url ? shortUrl(f.url).replace(/\/[^/]*$/, (m) => (shortUrl(f.url).includes('node_modules') ? '' : m)) : f.functionName || '(native)';
    file.set(fileKey, (file.get(fileKey) ?? 0) + us);
  }
  const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
  const rows = (m: Map<string, number>): string[] => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  return [`total ${(total / 1000).toFixed(0)} ms sampled`, '', 'self time by function:', ...rows(fn), '', 'self time by file / package:', ...rows(file)].join('\n');
}

if (require.main === module) {
  const [path, top] = process.argv.slice(2);
  if (!path) {
    process.stderr.write('usage: bench/profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${summarise(JSON.parse(readFileSync(path, 'utf8')) as Profile, Number(top ?? 25))}\n`);
}
