import { formatDistanceStrict } from 'date-fns';

/**
 * How operator listings (`history`, `schedule list`, `dlq list`, `status`) show times: relative to now,
 * so nobody has to subtract dates to see that a run is overdue or a failure is old. The exact ISO
 * times stay in each command's `--json`.
 */

/** `3 hours ago`, `in 20 minutes` (one whole unit, rounded). */
export const relativeTime = (at: Date | string, now: Date): string => formatDistanceStrict(new Date(at), now, { addSuffix: true });

/** The minute in UTC: `2026-03-08 08:30Z`. */
export const utcMinute = (at: Date | string): string => `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')}Z`;

/** `2026-03-08 08:30Z (3 hours ago)`, or `fallback` when the time is unknown or unreadable. */
export function whenText(at: Date | string | null | undefined, now: Date, fallback = '-'): string {
  if (at === null || at === undefined || Number.isNaN(new Date(at).getTime())) return fallback;
  return `${utcMinute(at)} (${relativeTime(at, now)})`;
}

/** `3 hours ago`, or `fallback` when the time is unknown or unreadable. */
export function agoText(at: Date | string | null | undefined, now: Date, fallback = '-'): string {
  if (at === null || at === undefined || Number.isNaN(new Date(at).getTime())) return fallback;
  return relativeTime(at, now);
}
