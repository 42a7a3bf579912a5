import { writeRuleFiles } from './bench/lib/generate-rule-files';
import { loadRulesFromDirs } from './src/adapters/evidence';
import { rmSync } from 'fs';
(async () => {
  const root = '/tmp/loaders-bench';
  rmSync(root, { recursive: true, force: true });
  const w = await writeRuleFiles(root, 42, 6000);
  console.log('written', w);
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = await loadRulesFromDirs([root]);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`run ${i}: ${r.rules.length} rules, ${r.issues.length} issues, ${ms.toFixed(0)} ms`, r.issues.slice(0,2));
  }
})();
