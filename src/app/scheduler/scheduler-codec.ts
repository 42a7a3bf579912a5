import type { CoverageScheduleInput } from '../../domain/schedule/schedule-types';
import type { RunReport, ScheduleCacheEntry } from '../../domain/schedule/schedule-ports';

/** Serialised forms of the scheduler's data: state-file entries and run reports sent to the leader. */

const toDate = (s?: string | null): Date | undefined => (s ? new Date(s) : undefined);

export function toCacheEntry(input: CoverageScheduleInput): ScheduleCacheEntry {
  return {
    id: input.id,
    standardId: input.standardId,
    name: input.name,
    createdAt: input.createdAt.toISOString(),
    periodicity: input.periodicity ?? null,
    duration: input.duration ?? null,
    lastResultAt: input.lastResultAt?.toISOString() ?? null,
    lastTriggeredAt: input.lastTriggeredAt?.toISOString() ?? null,
    manual: input.manual,
  };
}

export function fromCacheEntry(e: ScheduleCacheEntry): CoverageScheduleInput {
  return {
    id: e.id,
    standardId: e.standardId,
    name: e.name,
    createdAt: new Date(e.createdAt),
    periodicity: e.periodicity,
    duration: e.duration,
    lastResultAt: toDate(e.lastResultAt),
    lastTriggeredAt: toDate(e.lastTriggeredAt),
    manual: e.manual,
  };
}

/** Wire form of a run report sent to the leader through the lock queue. */
export function runReportMessage(report: RunReport): Record<string, unknown> {
  return {
    type: 'run',
    standardId: report.standardId,
    id: report.id,
    name: report.name,
    ranAt: report.ranAt.toISOString(),
    periodicity: report.periodicity ?? null,
    duration: report.duration ?? null,
    createdAt: report.createdAt?.toISOString(),
    manual: report.manual,
  };
}

export function runReportFromMessage(m: Record<string, unknown>): RunReport | undefined {
  if (m.type !== 'run' || typeof m.standardId !== 'string' || typeof m.ranAt !== 'string') return undefined;
  const ranAt = new Date(m.ranAt);
  if (Number.isNaN(ranAt.getTime())) return undefined;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const createdAt = str(m.createdAt) ? new Date(m.createdAt as string) : undefined;
  return {
    standardId: m.standardId,
    id: str(m.id),
    name: str(m.name),
    ranAt,
    periodicity: typeof m.periodicity === 'string' ? m.periodicity : null,
    duration: typeof m.duration === 'string' ? m.duration : null,
    createdAt: createdAt && !Number.isNaN(createdAt.getTime()) ? createdAt : undefined,
    manual: typeof m.manual === 'boolean' ? m.manual : undefined,
  };
}
