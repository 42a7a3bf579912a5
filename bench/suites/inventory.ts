import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parse as parseWithYamlLibrary } from 'yaml';
import { loadEvidenceDetailed, openInventoryCache } from '../../src/adapters/evidence';
import { parseToml, parseYaml } from '../../src/adapters/evidence/parse-text';
import { walkRoot } from '../../src/adapters/evidence/safe-files';
import { figure, type Figure, type SuiteOptions } from '../lib/figures';
import { generateTechniques } from '../lib/generate-evidence';
import { writeRuleFiles } from '../lib/generate-rule-files';
import { nowMs, percentile, round } from '../lib/measure';
import { writeSampleTree } from '../lib/sample-tree';

/**
 * Rule inventory: a tree the size of SigmaHQ + elastic/detection-rules + splunk/security_content made
 * of the real samples in ../shared/samples (bench/lib/sample-tree.ts; generated rules when it is
 * absent), written to a temporary folder. Every figure is a median of interleaved repetitions, so
 * the machine's load at a given moment skews the load and its floor alike:
 *   parse floor — reading each file (readFileSync) and parsing it with the hardened parsers the loader
 *     uses (js-yaml / smol-toml), one after the other, nothing else: the least any loader must spend;
 *   cold load — `loadEvidence` as the daemon calls it, no cache: walk, read, parse, validate, map;
 *   warm start — a NEW process loading through the parsed-rule cache (coverage.cache_file);
 *   reload — loading again, with the cache, after one rule file changed (what a watch event costs).
 * The OS page cache is warm in every case (files just written), as on a restart.
 */

/** A fresh process: load through the cache, print the figures (spawned by this suite). */
async function warmChild(): Promise<void> {
  const { dirs, cacheFile } = JSON.parse(process.env.BENCH_WARM ?? '{}') as { dirs: string[]; cacheFile: string };
  const c = process.cpuUsage();
  const t = nowMs();
  const loaded = await loadEvidenceDetailed({ rulesDirs: dirs, cacheFile });
  const ms = nowMs() - t;
  const used = process.cpuUsage(c);
  const cpuMs = (used.user + used.system) / 1000;
  process.stdout.write(`${JSON.stringify({ ms, cpuMs, cached: loaded.cached, unread: loaded.unread, files: loaded.files, rules: loaded.evidence.rules.length, uptimeMs: process.uptime() * 1000 })}\n`);
}

function runWarmChild(dirs: string[], cacheFile: string, profileArgs: string[]): Promise<{ ms: number; cpuMs: number; cached: number; unread: number; files: number; rules: number; uptimeMs: number; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const t = nowMs();
    const child = spawn(process.execPath, [...profileArgs, __filename], { env: { ...process.env, BENCH_WARM: JSON.stringify({ dirs, cacheFile }) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`warm-start process exited ${code}`));
      resolve({ ...(JSON.parse(out.trim().split('\n').pop() ?? '{}') as { ms: number; cpuMs: number; cached: number; unread: number; files: number; rules: number; uptimeMs: number }), wallMs: nowMs() - t });
    });
  });
}

const median = (xs: number[]): number => percentile(xs, 50);

export async function runInventory(options: SuiteOptions): Promise<Figure[]> {
  const reps = options.quick ? 3 : 5;
  const root = join(options.tmpDir, 'rules');
  const cacheFile = join(options.tmpDir, 'inventory-cache.json');
  const edited = new Map<string, string>();
  // Real upstream checkouts when given (BENCH_RULES_DIRS=/src/sigma/rules,/src/detection-rules/rules,…).
  const real = (process.env.BENCH_RULES_DIRS ?? '').split(',').map((d) => d.trim()).filter((d) => d !== '');
  const tree = real.length > 0 ? undefined : await writeSampleTree(root, options.seed);
  let dirs: string[];
  let source: string;
  if (real.length > 0) {
    dirs = real;
    source = `real rule trees ${real.join(', ')} (BENCH_RULES_DIRS)`;
  } else if (tree) {
    dirs = tree.dirs;
    source = `real samples of ../shared/samples copied to ${tree.files} files (${round(tree.bytes / 1024 / 1024, 1)} MiB: ${tree.perTree.sigma} Sigma, ${tree.perTree.elastic} Elastic, ${tree.perTree.splunk} Splunk)`;
  } else {
    const written = await writeRuleFiles(root, options.seed, 6321, generateTechniques(options.seed));
    dirs = ['sigma', 'elastic', 'splunk'].map((d) => join(root, d));
    source = `../shared/samples absent: ${written.files} generated rule files (${round(written.bytes / 1024 / 1024, 1)} MiB)`;
  }
  try {
    const files = (await Promise.all(dirs.map((d) => walkRoot(d, (n) => /\.(ya?ml|toml)$/i.test(n))))).flatMap((w) => w.files);
    const texts = files.map((f) => ({ toml: /\.toml$/i.test(f.absolute), text: readFileSync(f.absolute, 'utf8') }));
    const parse = (x: { toml: boolean; text: string }): unknown => (x.toml ? parseToml : parseYaml)(x.text);
    const floor: number[] = [];
    const parseOnly: number[] = [];
    const cold: number[] = [];
    const coldCpu: number[] = [];
    const floorCpu: number[] = [];
    const blocks: number[] = [];
    let rules = 0;
    let issues = 0;
    const cpuMs = (): number => {
      const c = process.cpuUsage();
      return (c.user + c.system) / 1000;
    };
    // One untimed pass of each first: the JIT warms the same code for all.
    texts.forEach(parse);
    await loadEvidenceDetailed({ rulesDirs: dirs });
    for (let r = 0; r < reps; r += 1) {
      // The floor: each file read as plainly as Node can (readFileSync) and parsed, one after the other.
      const c0 = cpuMs();
      let t = nowMs();
      for (const f of files) parse({ toml: /\.toml$/i.test(f.absolute), text: readFileSync(f.absolute, 'utf8') });
      floor.push(nowMs() - t);
      floorCpu.push(cpuMs() - c0);
      t = nowMs();
      texts.forEach(parse);
      parseOnly.push(nowMs() - t);
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      const c = cpuMs();
      t = nowMs();
      const loaded = await loadEvidenceDetailed({ rulesDirs: dirs });
      cold.push(nowMs() - t);
      coldCpu.push(cpuMs() - c);
      loop.disable();
      blocks.push(loop.max / 1e6);
      rules = loaded.evidence.rules.length;
      issues = loaded.evidence.issues.length;
    }

    // Warm start: the cache written by one load, then fresh processes reading through it.
    await loadEvidenceDetailed({ rulesDirs: dirs, cacheFile });
    const warm: Array<Awaited<ReturnType<typeof runWarmChild>>> = [];
    for (let r = 0; r < reps; r += 1) warm.push(await runWarmChild(dirs, cacheFile, options.profileArgs));

    // Reload after one file changed: the daemon's cache and previous rules are in memory.
    const cache = await openInventoryCache(cacheFile);
    let previous = await loadEvidenceDetailed({ rulesDirs: dirs, cache });
    const reload: number[] = [];
    for (let r = 0; r < reps; r += 1) {
      // A '#' comment line is valid YAML and TOML.
      const editable = files.filter((f) => /\.(ya?ml|toml)$/i.test(f.absolute));
      const target = editable[(r * 997) % editable.length].absolute;
      const original = readFileSync(target, 'utf8');
      if (!edited.has(target)) edited.set(target, original);
      writeFileSync(target, `${original}\n# edited ${r}\n`);
      const t = nowMs();
      previous = await loadEvidenceDetailed({ rulesDirs: dirs, cache, previousRules: previous.ruleFiles });
      reload.push(nowMs() - t);
    }

    // The parser this replaced, on the same texts (full runs only: ~2.5 s).
    let yamlLibS: number | null = null;
    if (!options.quick) {
      const t = nowMs();
      for (const x of texts) if (!x.toml) parseWithYamlLibrary(x.text, { maxAliasCount: 32, uniqueKeys: true });
      yamlLibS = (nowMs() - t) / 1000;
    }
    const yamlFloor = (() => {
      const t = nowMs();
      for (const x of texts) if (!x.toml) parseYaml(x.text);
      return (nowMs() - t) / 1000;
    })();
    const yamlLibRatio = yamlLibS === null ? null : round(yamlLibS / yamlFloor, 1);

    const floorS = median(floor) / 1000;
    const loadS = median(cold) / 1000;
    const warmS = median(warm.map((w) => w.ms)) / 1000;
    const ratio = loadS / floorS;
    options.log(`inventory: ${files.length} files, floor ${round(floorS, 3)} s, cold ${round(loadS, 3)} s (×${round(ratio, 2)}), warm ${round(warmS, 3)} s, reload ${round(median(reload) / 1000, 3)} s`);
    return [
      figure(
        'inventory',
        'load_s',
        {
          load_s: round(loadS, 3),
          parse_floor_s: round(floorS, 3),
          load_to_floor: round(ratio, 2),
          parse_in_memory_s: round(median(parseOnly) / 1000, 3),
          load_cpu_s: round(median(coldCpu) / 1000, 3),
          parse_floor_cpu_s: round(median(floorCpu) / 1000, 3),
          load_to_floor_cpu: round(median(coldCpu) / median(floorCpu), 2),
          warm_cpu_s: round(median(warm.map((w) => w.cpuMs)) / 1000, 3),
          warm_s: round(warmS, 3),
          warm_process_s: round(median(warm.map((w) => w.wallMs)) / 1000, 3),
          warm_from_cache: Math.min(...warm.map((w) => w.cached)),
          warm_not_read: Math.min(...warm.map((w) => w.unread)),
          reload_one_file_s: round(median(reload) / 1000, 3),
          load_max_block_ms: round(median(blocks), 1),
          yaml_parse_s: round(yamlFloor, 3),
          yaml_library_parse_s: yamlLibS === null ? null : round(yamlLibS, 3),
          yaml_speedup: yamlLibRatio,
          files: files.length,
          rules,
          issues,
          reps,
        },
        ratio <= 1.5 && warmS <= 0.5,
        `${source}; medians of ${reps} interleaved runs; parse floor = each file read with readFileSync and parsed with js-yaml / smol-toml, one after the other, no checks (parse_in_memory_s: the parsing alone); load_cpu_s = CPU of a cold load, both threads, against the floor's (load_to_floor_cpu: the ratio without the machine's other load); warm_cpu_s = CPU of the warm load; warm = loadEvidence in a new process through coverage.cache_file (warm_from_cache: files not parsed, warm_not_read: of which not even read, their metadata unchanged; warm_process_s: spawn to exit); reload = load with the cache after one file changed; load_max_block_ms = longest event-loop stall during a cold load; yaml_library_parse_s = the YAML files with the \`yaml\` library this replaced (full runs)`,
      ),
    ];
  } finally {
    // The reload figure appended a comment to a few files of the real trees: put them back as they were.
    if (real.length > 0) for (const [path, text] of edited) writeFileSync(path, text);
    await rm(root, { recursive: true, force: true });
    await rm(cacheFile, { force: true });
  }
}

if (require.main === module && process.env.BENCH_WARM) {
  warmChild().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
