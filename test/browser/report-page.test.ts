import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { AssessmentResult, TechniqueAssessment } from '../../src/domain/assessment/assessment-types';
import type { CoverageRequest } from '../../src/domain/coverage/coverage-types';
import { renderReportHtml, reportInputOf, TACTIC_ORDER } from '../../src/domain/report/report-html';
import { CHROMIUM, CHROMIUM_ARGS, describeWithBrowser } from '../support/browser';
import { brokerAvailable, itWhen, PROJECT_DIR } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';

/**
 * The coverage report page in a real browser: the page the daemon serves for an assessed coverage
 * (its external_uri), and a 600-technique offline report. Screenshots go to the test's temp dir.
 */

const EXAMPLES = join(PROJECT_DIR, 'config', 'examples');
const shots = mkdtempSync(join(tmpdir(), 'coverage-report-'));

function syntheticResult(n: number): { request: CoverageRequest; result: AssessmentResult } {
  const techniques: TechniqueAssessment[] = [];
  const refs = [];
  for (let i = 0; i < n; i++) {
    const id = `T${1000 + Math.floor(i / 4)}${i % 4 === 0 ? '' : `.00${i % 4}`}`;
    const tested = i % 7 !== 0;
    refs.push({ techniqueId: id, name: `Technique <${i}> & "quoted"`, tactics: [TACTIC_ORDER[i % TACTIC_ORDER.length]] });
    techniques.push({
      techniqueId: id,
      name: `Technique <${i}>`,
      tested,
      ...(tested ? { detection: (i * 37) % 101, prevention: (i * 53) % 101, detectionParts: { dataSource: 25, ruleQuality: 10, validation: 0, enrichment: 25 } } : {}),
      why: [],
      rules: [],
      controls: [],
      source: 'embedded',
      evidence: { rules: [{ id: `r${i}`, title: `Rule <script>alert(${i})</script>`, state: 'counted', maturity: 'stable' }], dataSources: [], controls: [] },
    });
  }
  return {
    request: { coverageId: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30', coverageName: 'Big <report>', coveredRef: 'report--1', techniques: refs, unmatched: [] },
    result: {
      backend: 'embedded',
      runAt: '2026-12-07T00:00:00.000Z',
      techniques,
      overall: [{ name: 'DETECTION', score: 48 }, { name: 'PREVENTION', score: 51 }],
      gaps: techniques.slice(0, 10).map((t, i) => ({ techniqueId: t.techniqueId, priority: 10 - i, prevalence: 5, impact: 5, feasibility: 5, detection: t.detection, missingDataSources: [] })),
      warnings: [],
    },
  };
}

describeWithBrowser('coverage report page in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('renders a 600-technique offline report: every row, the heat strip, escaped text, no script', async () => {
    const { request, result } = syntheticResult(600);
    const html = renderReportHtml(reportInputOf(request, result));
    const file = join(shots, 'report-600.html');
    writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const started = Date.now();
    await page.goto(`file://${file}`);
    const renderMs = Date.now() - started;
    expect(await page.locator('tbody tr').count()).toBe(600);
    expect(await page.locator('.heat .cell').count()).toBe(600);
    expect(await page.locator('.tactic').count()).toBe(TACTIC_ORDER.length);
    expect(await page.locator('script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(await page.locator('header h1').innerText()).toBe('Big <report>');
    expect(await page.locator('.gauge figcaption').allInnerTexts()).toEqual(['DETECTION', 'PREVENTION']);
    await page.screenshot({ path: join(shots, 'report-600.png'), fullPage: false });
    expect(statSync(join(shots, 'report-600.png')).size).toBeGreaterThan(10_000);
    process.stdout.write(`[report] 600 techniques: ${(html.length / 1024).toFixed(0)} KiB, loaded in Chromium in ${renderMs} ms; screenshot ${join(shots, 'report-600.png')}\n`);
    await page.close();
  });

  itWhen(brokerAvailable, 'no RabbitMQ at AMQP_URL')('opens the page an assessed coverage links to (external_uri), served by the daemon', async () => {
    const h: Harness = await createHarness({ maxPageSize: 50 });
    try {
      const techniques = ['T1059.001', 'T1003.001', 'T1566.001', 'T1105'];
      const patterns = techniques.map((t, i) => h.fake.state.addEntity('Attack-Pattern', `Technique ${t}`, { xMitreId: t, tactics: [['execution', 'credential-access', 'initial-access', 'command-and-control'][i]] }));
      const report = h.fake.state.addEntity('Report', 'APT-X <b>report</b>', { objectIds: patterns.map((p) => p.standardId) });
      const daemon = await h.start({
        assessor: null,
        config: {
          connector: { auto: true, auto_update: true },
          coverage: { rules_dirs: [join(EXAMPLES, 'rules')], controls_file: join(EXAMPLES, 'controls.yml'), data_sources_file: join(EXAMPLES, 'data-sources.yml'), validation_file: join(EXAMPLES, 'validation.yml') },
          http: { enabled: true, port: 0, public_url: 'http://reports.example.test' },
        },
      });
      const coverage = await h.fake.createCoverage(report.standardId, { name: 'APT-X coverage' });
      await h.fake.settle();
      const uuid = coverage.standardId.slice('security-coverage--'.length);
      expect(coverage.externalUri).toBe(`http://reports.example.test/coverages/${uuid}`);
      const base = `http://127.0.0.1:${daemon.httpPort}`;
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      const response = await page.goto(`${base}/coverages/${uuid}`);
      expect(response?.status()).toBe(200);
      expect(await page.locator('header h1').innerText()).toBe('APT-X coverage');
      expect(await page.locator('tbody tr').count()).toBe(techniques.length);
      const why = await page.locator('tbody tr#T1059\\.001 td.why').innerText();
      expect(why).toMatch(/Detection \d+/);
      expect(await page.locator('.links a').count()).toBe(3);
      await page.screenshot({ path: join(shots, 'report-daemon.png'), fullPage: true });
      // The downloads the page links to.
      const layer = (await (await fetch(`${base}/coverages/${uuid}/layer-detection.json`)).json()) as { techniques: unknown[]; domain: string };
      expect(layer.domain).toBe('enterprise-attack');
      const bundle = (await (await fetch(`${base}/coverages/${uuid}/bundle.json`)).json()) as { objects: Array<{ type: string }> };
      expect(bundle.objects.filter((o) => o.type === 'relationship')).toHaveLength(techniques.length);
      // The same scores as per-coverage gauges.
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`coverage_connector_coverage_score\\{coverage_id="${coverage.standardId}",score="detection"\\} \\d+`));
      expect(metrics).toContain(`coverage_connector_coverage_techniques{coverage_id="${coverage.standardId}",state="not_tested"} 0`);
      // Unknown coverage: a clear 404 page; anything else under /coverages/ too.
      const missing = await page.goto(`${base}/coverages/00000000-0000-4000-8000-000000000000`);
      expect(missing?.status()).toBe(404);
      expect(await page.locator('h1').innerText()).toBe('Coverage not found');
      for (const other of [`${uuid}/status`, `${uuid}/metrics`, `${uuid}/bundle.json/x`, 'not-a-uuid', `${uuid.toUpperCase()}x`]) {
        expect([other, (await fetch(`${base}/coverages/${other}`)).status]).toEqual([other, 404]);
      }
      process.stdout.write(`[report] daemon page screenshot ${join(shots, 'report-daemon.png')}; ${readFileSync(join(shots, 'report-daemon.png')).length} bytes\n`);
      await page.close();
    } finally {
      await h.close();
    }
  });
});
