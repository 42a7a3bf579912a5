import { overallOf, toScore } from '../../domain/assessment/combine';
import { untestedAssessment } from '../../domain/assessment/assessment-types';
import type { AssessContext, AssessmentResult, Assessor, TechniqueAssessment } from '../../domain/assessment/assessment-types';
import type { CoverageRequest } from '../../domain/coverage/coverage-types';
import type { Execution, ExecutionLog, SiemMatches, SiemQuery } from './siem-types';

/**
 * The SIEM validation backend (docs/backends.md, "SIEM validation"). For each requested technique,
 * every execution in the log (last `lookbackDays`) whose detection window has closed is one run:
 *   alert tagged with the technique (or its parent) in [t − skew, t + window] → detected, 100;
 *   no alert, but events from the run's host reached the SIEM in that window → logged, `loggedScore`;
 *   nothing → none, 0.
 * Detection = mean of the runs. Runs whose window is still open are not scored yet; techniques
 * without a closed run come back `tested: false`. Prevention is not measured here.
 */

export interface SiemAssessorOptions {
  query: SiemQuery;
  executions: ExecutionLog;
  windowMinutes: number;
  clockSkewSeconds: number;
  lookbackDays: number;
  loggedScore: number;
  externalUrl?: string;
}

export const SIEM_BACKEND = 'siem';

export interface SiemAssessor extends Assessor {
  /** The API side of the execution log: record executions reported by a runner. */
  recordExecutions: ExecutionLog['record'];
}

type RunOutcome = { score: number; line: string };

function parentOf(techniqueId: string): string | undefined {
  const dot = techniqueId.indexOf('.');
  return dot > 0 ? techniqueId.slice(0, dot) : undefined;
}

/** Runs serving a requested technique: its own executions; a parent also takes its sub-techniques'. */
export function runsFor(techniqueId: string, executions: Execution[]): Execution[] {
  const id = techniqueId.toUpperCase();
  return executions.filter((e) => e.techniqueId === id || (!id.includes('.') && e.techniqueId.startsWith(`${id}.`)));
}

function describeAlerts(m: SiemMatches): string {
  const rules = [...new Set(m.samples.map((s) => s.rule).filter((r): r is string => !!r))];
  return `${m.total} alert(s)${rules.length ? `, e.g. rule "${rules.slice(0, 2).join('", "')}"` : ''}`;
}

export function createSiemAssessor(options: SiemAssessorOptions): SiemAssessor {
  const windowMs = options.windowMinutes * 60_000;
  const skewMs = options.clockSkewSeconds * 1000;

  async function judge(run: Execution, ctx: AssessContext): Promise<RunOutcome> {
    const at = Date.parse(run.executedAt);
    const window = { from: new Date(at - skewMs), to: new Date(at + windowMs), hosts: run.host ? [run.host] : [] };
    const ids = [run.techniqueId, ...(parentOf(run.techniqueId) ? [parentOf(run.techniqueId) as string] : [])];
    const label = `run ${run.executedAt}${run.host ? ` on ${run.host}` : ''}${run.test ? ` (${run.test})` : ''}`;
    const alerts = await options.query.alertsFor(ids, window, ctx.signal);
    if (alerts.total > 0) return { score: 100, line: `${label}: detected — ${describeAlerts(alerts)}` };
    const events = await options.query.eventsFor(ids, window, ctx.signal);
    if (events && events.total > 0) {
      return { score: options.loggedScore, line: `${label}: logged — ${events.total} event(s) from the host reached ${options.query.name}, no alert tagged ${run.techniqueId}` };
    }
    const noEvents = events === undefined ? (run.host ? ' (no events index configured)' : ' (no host recorded: events not checked)') : ', no events from the host either';
    return { score: 0, line: `${label}: none — no alert tagged ${run.techniqueId}${noEvents}` };
  }

  async function assess(request: CoverageRequest, ctx: AssessContext): Promise<AssessmentResult> {
    const now = ctx.now.getTime();
    const { executions, issues } = await options.executions.list();
    const recent = executions.filter((e) => {
      const t = Date.parse(e.executedAt);
      return t <= now && t >= now - options.lookbackDays * 86_400_000;
    });
    const outcomes = new Map<string, Promise<RunOutcome>>(); // one query per run, even if it serves two techniques
    const outcomeOf = (run: Execution) => {
      const key = `${run.techniqueId}|${run.executedAt}|${run.host ?? ''}`;
      let p = outcomes.get(key);
      if (!p) {
        p = judge(run, ctx);
        outcomes.set(key, p);
      }
      return p;
    };

    const techniques: TechniqueAssessment[] = [];
    let latestRun: string | undefined;
    for (const ref of request.techniques) {
      const t: TechniqueAssessment = untestedAssessment(ref, SIEM_BACKEND, options.externalUrl);
      const runs = runsFor(ref.techniqueId, recent);
      const closed = runs.filter((r) => Date.parse(r.executedAt) + windowMs <= now);
      const open = runs.filter((r) => !closed.includes(r));
      if (runs.length === 0) {
        t.why.push(`not tested: no execution of ${ref.techniqueId} in the last ${options.lookbackDays} day(s) of the execution log`);
      } else if (closed.length === 0) {
        const closes = new Date(Math.min(...open.map((r) => Date.parse(r.executedAt))) + windowMs).toISOString();
        t.why.push(`not tested yet: ${open.length} run(s) still inside the ${options.windowMinutes}-minute detection window (first closes ${closes})`);
      } else {
        // Sequential on purpose: a SIEM under load should see one query at a time from us.
        const results: RunOutcome[] = [];
        for (const run of closed) results.push(await outcomeOf(run));
        t.detection = toScore(results.reduce((a, r) => a + r.score, 0) / results.length);
        t.tested = true;
        const detected = results.filter((r) => r.score === 100).length;
        t.why.push(`DETECTION ${t.detection}: ${detected}/${results.length} run(s) raised an alert in ${options.query.name}`, ...results.map((r) => r.line));
        if (open.length > 0) t.why.push(`${open.length} newer run(s) still inside the detection window, not counted yet`);
        const last = closed.map((r) => r.executedAt).sort().at(-1) as string;
        if (!latestRun || last > latestRun) latestRun = last;
      }
      techniques.push(t);
    }
    const warnings = issues.map((i) => `execution log: ${i}`);
    const untested = techniques.filter((t) => !t.tested).length;
    if (untested > 0) warnings.push(`SIEM validation has no closed run for ${untested} of ${techniques.length} technique(s)`);
    return {
      backend: SIEM_BACKEND,
      runAt: latestRun ?? ctx.now.toISOString(),
      ...(options.externalUrl ? { externalUri: options.externalUrl } : {}),
      techniques,
      overall: overallOf(techniques),
      gaps: [],
      warnings,
    };
  }

  return { name: SIEM_BACKEND, assess, recordExecutions: (list) => options.executions.record(list) };
}
