import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAssess } from '../../src/app/assess/assess';
import { PROJECT_DIR } from '../support/env';

/** `assess --out-html`: the detection engineer's copy of the page the daemon serves. */

const EXAMPLES = join(PROJECT_DIR, 'config', 'examples');

describe('assess --out-html', () => {
  it('writes one self-contained page with every technique, its why and the ranked gaps', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'assess-html-')), 'report.html');
    const run = await runAssess({
      bundleFile: join(EXAMPLES, 'report-apt-example.json'),
      rulesDirs: [join(EXAMPLES, 'rules')],
      controlsFile: join(EXAMPLES, 'controls.yml'),
      dataSourcesFile: join(EXAMPLES, 'data-sources.yml'),
      validationFile: join(EXAMPLES, 'validation.yml'),
      outHtml: out,
      now: new Date('2026-12-07T00:00:00.000Z'),
    });
    expect(run.written).toContain(out);
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // Self-contained: nothing fetched from elsewhere, no script.
    expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
    for (const t of run.request.techniques) expect(html).toContain(`<tr id="${t.techniqueId}">`);
    expect(html).toContain('Gaps to close first');
    expect(html).toMatch(/<strong>Detection \d+<\/strong> = data source/);
  });
});
