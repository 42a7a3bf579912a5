import { z } from 'zod';

/**
 * The enrichment message the platform publishes on `listen_<connector id>` (protocol §3.2/§3.3).
 * `event.stix_entity` and `event.stix_objects` travel as JSON *strings*; the schema parses them, so a
 * message that passes `EnrichmentMessageSchema` is fully usable. Unknown keys are kept (the platform
 * adds fields between versions). Playbook messages (§3.3) have no `stix_entity` and fail here: we
 * register `playbook_compatible: false`.
 */

const StixObjectSchema = z.looseObject({
  type: z.string().min(1),
  id: z.string().min(1),
});
type StixObjectShape = z.infer<typeof StixObjectSchema>;

/**
 * What StixObjectSchema accepts, checked in place: `stix_objects` holds dozens to thousands of
 * objects, and a zod object schema copies each one (5 % of a run's CPU with 50 attack patterns).
 */
const isStixObject = (o: unknown): o is StixObjectShape =>
  typeof o === 'object' && o !== null && !Array.isArray(o) && typeof (o as StixObjectShape).type === 'string' && (o as StixObjectShape).type.length > 0 && typeof (o as StixObjectShape).id === 'string' && (o as StixObjectShape).id.length > 0;

/** A JSON string holding one STIX object (`stix_entity`). */
const StixEntityString = z.string().transform((text, ctx) => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'stix_entity is not valid JSON' });
    return z.NEVER;
  }
  const parsed = StixObjectSchema.safeParse(value);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: 'stix_entity must be a STIX object with a type and an id' });
    return z.NEVER;
  }
  return parsed.data;
});

/** A JSON string holding a bundle (`stix_objects`); `id` is a bare uuid there (§3.4), so only `objects` is required. */
const StixObjectsString = z
  .string()
  .transform((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'stix_objects is not valid JSON' });
      return z.NEVER;
    }
    const objects = (value as { objects?: unknown } | null)?.objects;
    if (!value || typeof value !== 'object' || !Array.isArray(objects)) {
      ctx.addIssue({ code: 'custom', message: 'stix_objects must be a bundle with an objects array' });
      return z.NEVER;
    }
    // Lenient (§3.4): keep what has a type and an id, de-duplicate by id.
    const seen = new Map<string, StixObjectShape>();
    for (const o of objects as unknown[]) if (isStixObject(o) && !seen.has(o.id)) seen.set(o.id, o);
    return [...seen.values()];
  })
  .nullable()
  .optional();

/** A value as it may be shown in an error: printable ASCII kept, everything else (NUL, CR/LF, RTL overrides…) escaped, clipped. */
export function shownValue(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const escaped = [...text.slice(0, max)].map((c) => (/[\x20-\x7e]/.test(c) && c !== '"' && c !== '\\' ? c : `\\u{${c.codePointAt(0)?.toString(16)}}`)).join('');
  return `"${escaped}${text.length > max ? '…' : ''}"`;
}

/**
 * Ids that travel on: into an HTTP header (`opencti-draft-id`), queue headers (`x-work-id`), GraphQL
 * variables, URL paths (external_uri) and every log line. Platform ids are uuids, STIX ids
 * (`type--uuid`) and work ids (`work_<uuid>_<ISO time>`): letters, digits and a few separators. A
 * value outside that set (a NUL, CR/LF, an RTL override) makes the message invalid, with the reason.
 */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,255}$/;
const safeId = () =>
  z.string({ error: 'expected a string' }).regex(SAFE_ID, {
    error: (issue) => `must be 1-256 letters, digits or . _ : @ + - (it reaches headers, URLs and logs), got ${shownValue(issue.input)}`,
  });
/** Optional ids: the platform sends null (or an empty string) when there is none. */
const optionalSafeId = () => z.preprocess((v) => (v === '' ? null : v), safeId().nullable().optional());

export const EnrichmentMessageSchema = z.looseObject({
  internal: z.looseObject({
    work_id: safeId().nullable(),
    applicant_id: optionalSafeId(),
    draft_id: optionalSafeId(),
    trigger: z.enum(['create', 'update']).optional(),
    mode: z.enum(['auto', 'manual']).optional(),
  }),
  event: z.looseObject({
    event_type: z.string().optional(),
    entity_id: safeId(),
    entity_type: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,99}$/, { error: (issue) => `must be an entity type name such as Security-Coverage, got ${shownValue(issue.input)}` }),
    stix_entity: StixEntityString,
    stix_objects: StixObjectsString,
  }).superRefine((event, ctx) => {
    // The platform sends the entity's standard id in both places; a mismatch means the message was
    // built or edited by something else, and we would read one coverage and write another.
    if (event.stix_entity.id !== event.entity_id) {
      ctx.addIssue({ code: 'custom', path: ['entity_id'], message: `entity_id ${shownValue(event.entity_id)} differs from stix_entity.id ${shownValue(event.stix_entity.id)}` });
    }
  }),
});

export type EnrichmentMessage = z.infer<typeof EnrichmentMessageSchema>;
export type EnrichmentMessageInput = z.input<typeof EnrichmentMessageSchema>;

/** Best effort: the work id of a body that failed validation, so the work can still be closed in error. */
export function workIdOf(raw: unknown): string | undefined {
  const id = (raw as { internal?: { work_id?: unknown } } | null)?.internal?.work_id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/** Best effort: the coverage id of a body that failed validation (for logs and DLQ headers). */
export function entityIdOf(raw: unknown): string | undefined {
  const id = (raw as { event?: { entity_id?: unknown } } | null)?.event?.entity_id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}
