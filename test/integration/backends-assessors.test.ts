import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/app/config';
import { createAssessor } from '../../src/app/assessors';
import type { AssessmentResult, Assessor, TechniqueAssessment } from '../../src/domain/assessment/assessment-types';
import { overallOf } from '../../src/domain/assessment/combine';
import type { CoverageRequest } from '../../src/domain/coverage/coverage-types';
import type { EvidenceSet } from '../../src/domain/evidence/evidence-types';
import { ConfigError } from '../../src/errors';
import { coverageRequest } from '../support/coverage-request';
import { startFakeOpenAev, type FakeOpenAev } from '../support/fake-openaev/server';
import { startFakeSiem, type FakeSiem } from '../support/fake-siem/server';

/**
 * Switching backends by configuration alone: the same request through ASSESSOR=embedded,
 * openaev, siem and combinations, against the in-process fakes. The embedded engine is a
 * stand-in here (its own suite tests it): it estimates DETECTION 40 / PREVENTION 10 everywhere.
 */

const evidence: EvidenceSet = { rules: [], imported: [], dataSources: [], hasDataSourceInventory: false, controls: [], validation: [], issues: [] };
const request = coverageRequest(['T1059.001', 'T1003'], { periodicity: 'P1D', duration: 'P30D' });
const now = new Date('2026-02-12T12:00:00.000Z');

const stubEmbedded = (): Assessor => ({
  name: 'embedded',
  assess: async (req) => {
    const techniques: TechniqueAssessment[] = req.techniques.map((t) => ({ techniqueId: t.techniqueId, tested: true, detection: 40, prevention: 10, why: ['estimated from rules'], rules: ['r1'], controls: [], source: 'embedded' }));
    const result: AssessmentResult = { backend: 'embedded', runAt: now.toISOString(), techniques, overall: overallOf(techniques), gaps: [], warnings: [] };
    return result;
  },
});

describe('assessor selection by configuration', () => {
  let openaev: FakeOpenAev;
  let siem: FakeSiem;
  let dir: string;
  let logFile: string;
  const embeddedCalls: string[] = [];
  const deps = () => ({
    createEmbedded: () => {
      const e = stubEmbedded();
      return { name: e.name, assess: (r: CoverageRequest, c: { now: Date }) => (embeddedCalls.push(r.coverageId), e.assess(r, c)) };
    },
    sleep: async () => undefined,
  });
  const env = (extra: Record<string, string>) => ({
    OPENAEV_URL: openaev.url,
    OPENAEV_TOKEN: openaev.token,
    SIEM_URL: siem.url,
    SIEM_API_KEY: 'c2llbTpzZWNyZXQ=',
    SIEM_EXECUTION_LOGS: logFile,
    ...extra,
  });

  beforeEach(async () => {
    embeddedCalls.length = 0;
    openaev = await startFakeOpenAev();
    siem = await startFakeSiem({ authorization: 'ApiKey c2llbTpzZWNyZXQ=' });
    dir = await mkdtemp(join(tmpdir(), 'assessors-'));
    logFile = join(dir, 'art-log.csv');
    // Invoke-AtomicRedTeam's CSV execution log: T1059.001 ran on WIN-01 at 09:00.
    await writeFile(logFile, '"Execution Time (UTC)","Execution Time (Local)","Technique","Test Number","Test Name","Hostname","Username","GUID"\r\n"2026-02-12T09:00:00Z","2026-02-12T10:00:00","T1059.001","1","Encoded PowerShell","WIN-01","lab\\alice","f3132740-55bc-48c4-bcc0-758a459cd027"\r\n');
    siem.index([{ index: '.alerts-security.alerts-default', source: { '@timestamp': '2026-02-12T09:03:00.000Z', 'kibana.alert.rule.name': 'Encoded PowerShell', kibana: { alert: { rule: { threat: [{ technique: [{ id: 'T1059', subtechnique: [{ id: 'T1059.001' }] }] }] } } }, host: { name: 'WIN-01' } } }]);
  });
  afterEach(async () => {
    await Promise.all([openaev.close(), siem.close(), rm(dir, { recursive: true, force: true })]);
  });

  async function finishSimulation(): Promise<void> {
    const scenario = openaev.scenarioOf(request.coverageId)!;
    openaev.addSimulation(scenario.id, { status: 'FINISHED', start: '2026-02-12T08:00:00.000Z', injects: [{ techniques: ['T1003'], expectations: [{ type: 'PREVENTION', success: 1 }, { type: 'DETECTION', failed: 1 }] }] });
  }

  it('ASSESSOR=embedded calls no backend', async () => {
    const assessor = createAssessor(loadConfig({ env: env({ ASSESSOR: 'embedded' }) }), evidence, deps());
    const result = await assessor.assess({ ...request }, { now });
    expect(result.backend).toBe('embedded');
    expect(openaev.requests).toHaveLength(0);
    expect(siem.searches).toHaveLength(0);
  });

  it('ASSESSOR=openaev,embedded: OpenAEV measures what it ran, the estimate fills the rest', async () => {
    const assessor = createAssessor(loadConfig({ env: env({ ASSESSOR: 'openaev,embedded' }) }), evidence, deps());
    const first = await assessor.assess(request, { now });
    expect(first.techniques.map((t) => t.source)).toEqual(['embedded', 'embedded']); // nothing finished yet
    await finishSimulation();
    const result = await assessor.assess(request, { now });
    expect(result.backend).toBe('openaev+embedded');
    expect(result.techniques.map((t) => [t.techniqueId, t.source, t.prevention, t.detection])).toEqual([
      ['T1059.001', 'embedded', 10, 40],
      ['T1003', 'openaev', 100, 0],
    ]);
    expect(result.overall).toEqual([
      { name: 'PREVENTION', score: 55 },
      { name: 'DETECTION', score: 20 },
    ]);
    expect(result.externalUri).toBe(`${openaev.url}/admin/scenarios/${openaev.scenarioOf(request.coverageId)!.id}`);
    expect(siem.searches).toHaveLength(0);
  });

  it('ASSESSOR=siem,embedded: SIEM alerts measure detection, the estimate keeps prevention', async () => {
    const assessor = createAssessor(loadConfig({ env: env({ ASSESSOR: 'siem,embedded' }) }), evidence, deps());
    const result = await assessor.assess(request, { now });
    expect(result.techniques.map((t) => [t.techniqueId, t.source, t.prevention, t.detection])).toEqual([
      ['T1059.001', 'siem+embedded', 10, 100],
      ['T1003', 'embedded', 10, 40],
    ]);
    expect(openaev.requests).toHaveLength(0);
  });

  it('ASSESSOR=openaev,siem,embedded: every source contributes, in priority order', async () => {
    const assessor = createAssessor(loadConfig({ env: env({ ASSESSOR: 'openaev,siem,embedded' }) }), evidence, deps());
    await assessor.assess(request, { now });
    await finishSimulation();
    const result = await assessor.assess(request, { now });
    expect(result.backend).toBe('openaev+siem+embedded');
    expect(result.techniques.map((t) => t.source)).toEqual(['siem+embedded', 'openaev']);
    expect(result.sources?.map((s) => [s.backend, s.techniquesScored])).toEqual([
      ['openaev', 1],
      ['siem', 1],
      ['embedded', 1],
    ]);
  });

  it('ASSESSOR=openaev alone leaves what OpenAEV could not test untested', async () => {
    const assessor = createAssessor(loadConfig({ env: env({ ASSESSOR: 'openaev' }) }), evidence, deps());
    await assessor.assess(request, { now });
    await finishSimulation();
    const result = await assessor.assess(request, { now });
    expect(embeddedCalls).toHaveLength(0);
    expect(result.techniques[0]).toMatchObject({ techniqueId: 'T1059.001', tested: false });
    expect(result.techniques[0].detection).toBeUndefined();
  });

  it('lets an assessor:<name> label pick the measured backend of one coverage', async () => {
    const assessor = createAssessor(loadConfig({ env: env({ ASSESSOR: 'openaev,embedded' }) }), evidence, deps());
    expect(assessor.available).toEqual(['openaev', 'embedded', 'siem']);
    const result = await assessor.assess({ ...request, labels: ['Assessor:SIEM', 'assessor:caldera'] }, { now });
    expect(result.backend).toBe('siem+embedded');
    expect(openaev.requests).toHaveLength(0);
    expect(result.warnings).toContain('label assessor:caldera ignored: backend caldera is not configured in this deployment');
  });

  it('records executions through the API side of the SIEM backend', async () => {
    const assessor = createAssessor(loadConfig({ env: env({ ASSESSOR: 'siem', SIEM_EXECUTION_LOGS: '' }) }), evidence, deps());
    expect(await assessor.recordExecutions!([{ techniqueId: 'T1003', executedAt: '2026-02-12T09:00:00Z', host: 'WIN-01' }])).toBe(1);
    const result = await assessor.assess(request, { now });
    expect(result.techniques.map((t) => [t.techniqueId, t.tested, t.detection])).toEqual([
      ['T1059.001', false, undefined],
      ['T1003', true, 0],
    ]);
  });

  it('refuses to start when a listed backend lacks its settings, naming the variable', () => {
    expect(() => createAssessor(loadConfig({ env: { ASSESSOR: 'openaev,embedded' } }), evidence, deps())).toThrow(ConfigError);
    expect(() => createAssessor(loadConfig({ env: { ASSESSOR: 'openaev', OPENAEV_URL: 'http://x' } }), evidence, deps())).toThrow(/OPENAEV_TOKEN/);
    expect(() => createAssessor(loadConfig({ env: { ASSESSOR: 'siem' } }), evidence, deps())).toThrow(/SIEM_URL/);
  });
});
