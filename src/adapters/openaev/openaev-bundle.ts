import { createHash } from 'node:crypto';
import { DateTime, Duration } from 'luxon';
import { v5 as uuidv5 } from 'uuid';
import type { CoverageRequest } from '../../domain/coverage/coverage-types';
import { OPENCTI_EXTENSION_ID, OPENCTI_MITRE_EXTENSION_ID, type StixBundle, type StixObject } from '../../domain/stix/stix-types';

/**
 * What we hand to OpenAEV: the STIX bundle its `/api/stix/process-bundle` endpoint turns into a
 * scenario (one per coverage id, injects diffed on every update), the hash that decides whether a
 * send is needed at all, and the recurrence we set ourselves because OpenAEV's own period parsing
 * is lossy (docs/backends.md, "Scheduling").
 */

/** Namespace for attack-pattern ids we must invent for offline requests (no platform id). */
const ATTACK_PATTERN_NAMESPACE = '6d4a3c1e-5f0b-4e9a-9a57-3c2b8d6f1e42';

export interface OpenAevScheduleInput {
  periodicity: string;
  duration: string;
}

/** Hash of everything OpenAEV's scenario depends on: unchanged hash → no send (no duplicate bundles). */
export function coverageContentHash(request: CoverageRequest, schedule: OpenAevScheduleInput): string {
  const content = {
    id: request.coverageId,
    name: request.coverageName,
    coveredRef: request.coveredRef,
    techniques: request.techniques.map((t) => [t.techniqueId.toUpperCase(), t.stixId ?? '']).sort(),
    platforms: [...(request.platformsAffinity ?? [])].map((p) => p.toLowerCase()).sort(),
    typeAffinity: request.typeAffinity ?? '',
    labels: [...(request.labels ?? [])].sort(),
    ...schedule,
  };
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

function attackPatternId(techniqueId: string, stixId: string | undefined): string {
  return stixId ?? `attack-pattern--${uuidv5(techniqueId.toUpperCase(), ATTACK_PATTERN_NAMESPACE)}`;
}

/**
 * The bundle in the shape OpenCTI sends to OpenAEV. `modified` is the later of the coverage's own
 * and `sentAt`, so OpenAEV never rejects our send as obsolete, and each attempt differs (OpenAEV
 * answers a byte-identical bundle with an empty "duplicate" 200).
 */
export function buildCoverageBundle(request: CoverageRequest, schedule: OpenAevScheduleInput, sentAt: Date): StixBundle {
  const sent = sentAt.toISOString();
  const modified = request.modified && request.modified > sent ? request.modified : sent;
  const created = request.created ?? sent;
  const coverage: StixObject = {
    type: 'security-coverage',
    spec_version: '2.1',
    id: request.coverageId,
    name: request.coverageName,
    covered_ref: request.coveredRef,
    created,
    modified,
    periodicity: schedule.periodicity,
    duration: schedule.duration,
    platforms_affinity: request.platformsAffinity ?? ['windows', 'linux', 'macos'],
    ...(request.typeAffinity ? { type_affinity: request.typeAffinity } : {}),
    ...(request.labels?.length ? { labels: request.labels } : {}),
    // Older OpenAEV releases read created_at from this extension and fail without it.
    extensions: { [OPENCTI_EXTENSION_ID]: { extension_type: 'new-sdo', type: 'Security-Coverage', created_at: created, updated_at: modified } },
  };
  const patterns: StixObject[] = request.techniques.map((t) => ({
    type: 'attack-pattern',
    spec_version: '2.1',
    id: attackPatternId(t.techniqueId, t.stixId),
    name: t.name ?? t.techniqueId,
    created,
    modified: created,
    x_mitre_id: t.techniqueId,
    external_references: [{ source_name: 'mitre-attack', external_id: t.techniqueId }],
    // OpenAEV keys techniques on the `id` inside OpenCTI's MITRE extension.
    extensions: { [OPENCTI_MITRE_EXTENSION_ID]: { extension_type: 'property-extension', id: t.techniqueId } },
  }));
  const bundleId = `bundle--${uuidv5(`${request.coverageId}|${modified}`, ATTACK_PATTERN_NAMESPACE)}`;
  return { type: 'bundle', id: bundleId, spec_version: '2.1', objects: [coverage, ...patterns] };
}

export interface OpenAevPeriod {
  /** Period in the one-unit form OpenAEV parses (`PT?<n>[HDWM]`, M = months). */
  period: string;
  /** Set when the period had to be changed to fit that form. */
  warning?: string;
}

/**
 * OpenAEV reads periods with `PT?(\d+)([HDWM])` where M means **months**: `PT30M` would run every
 * 30 months and `P1DT12H` every day. Rewrite any ISO-8601 duration into that form: months/years as
 * `P<n>M`, otherwise the largest exact unit of weeks/days/hours; sub-hour periods round up to `PT1H`.
 */
export function toOpenAevPeriod(iso: string): OpenAevPeriod {
  const d = Duration.fromISO(iso);
  if (!d.isValid || d.toMillis() <= 0) throw new Error(`not a positive ISO-8601 duration: ${iso}`);
  const { years = 0, quarters = 0, months = 0, weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0, milliseconds = 0 } = d.toObject();
  const calendarMonths = years * 12 + quarters * 3 + months;
  const fixedSeconds = weeks * 604800 + days * 86400 + hours * 3600 + minutes * 60 + seconds + milliseconds / 1000;
  if (calendarMonths > 0 && fixedSeconds === 0 && Number.isInteger(calendarMonths)) return { period: `P${calendarMonths}M` };
  const total = fixedSeconds + calendarMonths * 30 * 86400;
  const approx = calendarMonths > 0 ? ` (months counted as 30 days)` : '';
  if (total % 604800 === 0) return withWarning(`P${total / 604800}W`, iso, approx);
  if (total % 86400 === 0) return withWarning(`P${total / 86400}D`, iso, approx);
  if (total % 3600 === 0) return withWarning(`PT${total / 3600}H`, iso, approx);
  const hoursUp = Math.max(1, Math.ceil(total / 3600));
  return { period: `PT${hoursUp}H`, warning: `periodicity ${iso} is finer than OpenAEV's one-hour granularity; scheduled every ${hoursUp} hour(s)` };
}

function withWarning(period: string, iso: string, approx: string): OpenAevPeriod {
  // A different spelling of the same value (P7D → P1W) needs no warning; an approximation does.
  return approx ? { period, warning: `periodicity ${iso} rewritten as ${period}${approx}` } : { period };
}

export interface RecurrenceBody {
  scenario_recurrence: string | null;
  scenario_recurrence_start: string | null;
  scenario_recurrence_end: string | null;
}

/**
 * The body of `PUT /api/scenarios/{id}/recurrence`: first run two minutes from now (whole seconds,
 * as OpenAEV does), then every `period` until start + duration. Draft mode clears the recurrence.
 */
export function recurrenceBody(schedule: OpenAevScheduleInput, now: Date, draft: boolean): { body: RecurrenceBody; key: string; warning?: string } {
  if (draft) return { body: { scenario_recurrence: null, scenario_recurrence_start: null, scenario_recurrence_end: null }, key: 'draft' };
  const { period, warning } = toOpenAevPeriod(schedule.periodicity);
  const start = DateTime.fromJSDate(now, { zone: 'utc' }).plus({ minutes: 2 }).startOf('second');
  const duration = Duration.fromISO(schedule.duration);
  if (!duration.isValid) throw new Error(`not an ISO-8601 duration: ${schedule.duration}`);
  const end = start.plus(duration);
  return {
    body: { scenario_recurrence: period, scenario_recurrence_start: start.toISO() as string, scenario_recurrence_end: end.toISO() as string },
    key: `${period}|${duration.toISO()}`,
    ...(warning ? { warning } : {}),
  };
}
