import { z } from 'zod';

/**
 * Field builders for the config schema. Every value may arrive as a string (environment variable),
 * so each builder accepts the string form and the typed form (config.yml).
 */

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export interface FieldMeta {
  [key: string]: unknown;
  description: string;
  secret?: boolean;
  /** Shown in the sample/README when there is no default. */
  example?: string;
}

function toBool(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return value;
}

function toList(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function toNumber(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isNaN(n) ? value : n;
}

/** One message for every way an integer can be wrong (type, fraction, range), with the range and the value. */
const intError = (min: number, max: number) => (issue: { input?: unknown }) =>
  `expected an integer from ${min} to ${max}, got ${JSON.stringify(issue.input)}`;

function blankToUndefined(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

export const field = {
  bool: (def: boolean, meta: FieldMeta) =>
    z.preprocess(toBool, z.boolean({ error: 'expected true or false' })).default(def).meta(meta),
  int: (def: number, min: number, max: number, meta: FieldMeta) =>
    z
      .preprocess(toNumber, z.number({ error: intError(min, max) }).int().min(min).max(max))
      .default(def)
      .meta(meta),
  string: (def: string, meta: FieldMeta) => z.preprocess(blankToUndefined, z.string().min(1)).default(def).meta(meta),
  optionalString: (meta: FieldMeta) => z.preprocess(blankToUndefined, z.string().min(1).optional()).meta(meta),
  /** An http(s) URL (never echoed in the error: some carry credentials). */
  optionalUrl: (meta: FieldMeta) =>
    z.preprocess(blankToUndefined, z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL such as https://opencti.example.org' }).optional()).meta(meta),
  /** An amqp(s) URL with a numeric port, if any (never echoed: it carries the broker password). */
  optionalAmqpUrl: (meta: FieldMeta) =>
    z
      .preprocess(blankToUndefined, z.url({ protocol: /^amqps?$/, error: 'expected an amqp:// or amqps:// URL such as amqp://user:pass@rabbitmq:5672/%2F (port 1-65535)' }).optional())
      .meta(meta),
  optionalUuid: (meta: FieldMeta) =>
    z.preprocess(blankToUndefined, z.uuid({ error: 'expected a UUID such as 6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11' }).optional()).meta(meta),
  optionalInt: (min: number, max: number, meta: FieldMeta) =>
    z.preprocess(toNumber, z.number({ error: intError(min, max) }).int().min(min).max(max).optional()).meta(meta),
  optionalBool: (meta: FieldMeta) => z.preprocess(toBool, z.boolean({ error: 'expected true or false' }).optional()).meta(meta),
  list: (def: string[], meta: FieldMeta) => z.preprocess(toList, z.array(z.string().min(1))).default(def).meta(meta),
  enumOf: <T extends readonly [string, ...string[]]>(values: T, def: T[number], meta: FieldMeta) =>
    z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(values)).default(def as never).meta(meta),
  enumList: <T extends readonly [string, ...string[]]>(values: T, def: T[number][], meta: FieldMeta) =>
    z
      .preprocess((v) => (Array.isArray(toList(v)) ? (toList(v) as string[]).map((s) => s.toLowerCase()) : v), z.array(z.enum(values)).min(1))
      .default(def as never)
      .meta(meta),
};

/** A config section: absent in config.yml and env means "all defaults". */
export const section = <T extends z.ZodRawShape>(shape: T) => z.object(shape).prefault({} as never);
