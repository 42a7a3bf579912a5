import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { createRng } from './prng';

/**
 * A rule tree the size of SigmaHQ + elastic/detection-rules + splunk/security_content (6,321 files:
 * 3,100 Sigma, 1,421 Elastic, 1,800 Splunk) made of the real sample files in ../shared/samples, each
 * copy with its own id so every file is a distinct rule. Written to a temporary folder, never into the
 * project. The upstream folder layout is kept (rules/windows/process_creation/…), copies numbered.
 */

/** ../shared/samples beside the project (the bench runs from the project folder, its code from a build folder). */
export const SHARED_SAMPLES = resolve(process.cwd(), '..', 'shared', 'samples');
/** Files per tree in the upstream repositories at the sampled commits (rounded). */
export const TREE_SIZES = { sigma: 3100, elastic: 1421, splunk: 1800 } as const;
export type TreeName = keyof typeof TREE_SIZES;

const EXTENSION: Record<TreeName, RegExp> = { sigma: /\.ya?ml$/i, elastic: /\.toml$/i, splunk: /\.ya?ml$/i };

function listFiles(dir: string, accept: RegExp, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listFiles(path, accept, out);
    else if (accept.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/** The sample's id replaced by a new one (first occurrence only: the rule's own id). */
function withNewId(tree: TreeName, text: string, id: string): string {
  if (tree === 'elastic') return text.replace(/^rule_id = ".*"$/m, `rule_id = "${id}"`);
  return text.replace(/^id: .*$/m, `id: ${id}`);
}

export interface SampleTree {
  root: string;
  dirs: string[];
  files: number;
  bytes: number;
  perTree: Record<TreeName, number>;
}

/** Undefined when ../shared/samples is absent (the caller falls back to generated rules). */
export async function writeSampleTree(root: string, seed: number, sizes: Record<TreeName, number> = TREE_SIZES): Promise<SampleTree | undefined> {
  if (!existsSync(SHARED_SAMPLES)) return undefined;
  const rng = createRng(seed);
  let bytes = 0;
  const perTree = { sigma: 0, elastic: 0, splunk: 0 };
  const made = new Set<string>();
  for (const tree of Object.keys(sizes) as TreeName[]) {
    const source = join(SHARED_SAMPLES, tree);
    const samples = listFiles(source, EXTENSION[tree]).map((path) => ({ rel: relative(source, path), text: readFileSync(path, 'utf8') }));
    if (samples.length === 0) return undefined;
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < sizes[tree]; i += 1) {
      const sample = samples[i % samples.length];
      const copy = Math.floor(i / samples.length);
      const ext = extname(sample.rel);
      const target = join(root, tree, dirname(sample.rel), copy === 0 ? basename(sample.rel) : `${basename(sample.rel, ext)}_${copy}${ext}`);
      const dir = dirname(target);
      if (!made.has(dir)) {
        await mkdir(dir, { recursive: true });
        made.add(dir);
      }
      const text = copy === 0 ? sample.text : withNewId(tree, sample.text, rng.uuid());
      bytes += Buffer.byteLength(text);
      writes.push(writeFile(target, text));
      if (writes.length >= 200) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    perTree[tree] = sizes[tree];
  }
  return {
    root,
    dirs: (Object.keys(sizes) as TreeName[]).map((t) => join(root, t)),
    files: Object.values(perTree).reduce((a, b) => a + b, 0),
    bytes,
    perTree,
  };
}
