import type { RunReport } from '../../domain/schedule/schedule-ports';

/** Serialised form of the run reports sent to the leader (the state file's is the cache adapter's). */

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
