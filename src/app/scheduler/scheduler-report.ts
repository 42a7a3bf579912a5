import { formatSpan } from '../../domain/schedule/period';
import { agoText } from '../time-text';
import { planCoverage } from '../../domain/schedule/schedule-plan';
import type { CoverageSource } from '../../domain/schedule/schedule-ports';
import type { SchedulePlan, SchedulePolicy } from '../../domain/schedule/schedule-types';

/** `schedule list`: every coverage of the platform (paginated) planned with the scheduler's own code. */

export async function listSchedule(source: CoverageSource, policy: SchedulePolicy, now: Date, maxPages = 10_000): Promise<SchedulePlan[]> {
  const plans: SchedulePlan[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await source.listPage(after);
    for (const item of page.items) plans.push(planCoverage(item, policy, now));
    after = page.next;
    pages += 1;
  } while (after && pages < maxPages);
  return plans;
}

/** Sort order of the listing: what needs attention first. */
const STATUS_ORDER: Record<SchedulePlan['status'], number> = { due: 0, running: 1, scheduled: 2, finished: 3, manual: 4 };

export function sortPlans(plans: SchedulePlan[]): SchedulePlan[] {
  return [...plans].sort(
    (a, b) =>
      STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
      (a.nextRunAt?.getTime() ?? Infinity) - (b.nextRunAt?.getTime() ?? Infinity) ||
      a.standardId.localeCompare(b.standardId),
  );
}

/** Status column: the status plus any fallback, e.g. `scheduled, invalid-periodicity`. */
export function statusText(plan: SchedulePlan): string {
  const flags = plan.issues.filter((i) => i.code.startsWith('invalid-')).map((i) => i.code);
  return [plan.status, ...flags].join(', ');
}


export function planToJson(plan: SchedulePlan): Record<string, unknown> {
  return {
    id: plan.id,
    standard_id: plan.standardId,
    name: plan.name ?? null,
    status: plan.status,
    next_run: plan.nextRunAt?.toISOString() ?? null,
    last_run: plan.lastRunAt?.toISOString() ?? null,
    first_run: plan.firstRunAt.toISOString(),
    ends_at: plan.endsAt.toISOString(),
    periodicity: plan.periodicity,
    duration: plan.duration,
    remaining_ms: plan.remainingMs,
    issues: plan.issues,
  };
}

/** A fixed-width table for terminals; reasons for fallbacks are listed under it. */
export function formatScheduleTable(plans: SchedulePlan[], now: Date): string {
  // Relative times (an overdue run reads "2 days ago"); --json has the exact ones.
  const header = ['COVERAGE', 'STATUS', 'NEXT RUN', 'LAST RUN', 'PERIODICITY', 'REMAINING'];
  const rows = sortPlans(plans).map((p) => [
    (p.name ?? p.standardId).slice(0, 40),
    statusText(p),
    p.status === 'finished' || p.status === 'manual' ? '-' : agoText(p.nextRunAt, now),
    agoText(p.lastRunAt, now),
    p.periodicity,
    formatSpan(p.remainingMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(header), ...rows.map(line)];
  const notes = sortPlans(plans).flatMap((p) => p.issues.map((i) => `  ${p.name ?? p.standardId}: ${i.reason}`));
  if (notes.length > 0) out.push('', 'Notes:', ...notes);
  const counts = (Object.keys(STATUS_ORDER) as Array<SchedulePlan['status']>)
    .map((status) => [status, plans.filter((p) => p.status === status).length] as const)
    .filter(([, n]) => n > 0);
  out.push('', `${plans.length} coverage(s)${counts.length ? `: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}` : ''}`);
  return `${out.join('\n')}\n`;
}
