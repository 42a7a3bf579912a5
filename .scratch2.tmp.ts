import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { parse as y } from 'yaml';
// eslint-disable-next-line
const jsyaml = require('js-yaml');
const texts: string[] = [];
for (const f of ['sigma', 'splunk']) for (const g of readdirSync(join('/tmp/loaders-bench', f))) for (const n of readdirSync(join('/tmp/loaders-bench', f, g))) texts.push(readFileSync(join('/tmp/loaders-bench', f, g, n), 'utf8'));
const time = (label: string, fn: () => void) => { fn(); const t0 = process.cpuUsage(); fn(); const c = process.cpuUsage(t0); console.log(label, ((c.user+c.system)/1000).toFixed(0), 'ms cpu'); };
time('yaml', () => texts.forEach((s) => y(s)));
time('js-yaml', () => texts.forEach((s) => jsyaml.load(s)));
