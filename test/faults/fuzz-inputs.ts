/**
 * Generated hostile inputs for the message parser and the bundle reader, from a seeded PRNG so every
 * run (and every failure) is reproducible: wrong types, huge strings, deep nesting, invalid JSON in
 * the JSON-string fields, prototype-pollution keys and unicode edge cases.
 */

export type Rand = () => number;

export const POLLUTION_MARK = 'fuzzPolluted';

const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)];
const int = (r: Rand, max: number): number => Math.floor(r() * max);

const uuid = (r: Rand): string =>
  'xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx'.replace(/x/g, () => int(r, 16).toString(16));

/** Strings that break naive code: control chars, lone surrogates, bidi overrides, emoji, huge. */
export const UNICODE_EDGES: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'T1059\u0000',
  '\ud800',
  '\udfff',
  'a\ud83dz',
  '\u202eT1059 evil\u202c',
  '\u200f\u0627\u0644\u0639\u0631\u0628\u064a\u0629',
  '👨‍👩‍👧‍👦🛡️',
  '\ufeffT1059',
  'T1059\u00a0',
  'Ｔ１０５９',
  '\u0085\u2028\u2029',
  '%s%n%x',
  '${jndi:ldap://127.0.0.1/a}',
  '__proto__',
  'constructor',
  'toString',
  'attack-pattern--',
  'attack-pattern--\ud800',
];

/** Deeply nested arrays or objects (built iteratively: the generator itself must not overflow). */
export function deepNest(depth: number, asObject: boolean): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

/** Object whose `toString`/`valueOf` are not callable: `String(x)` and template literals throw on it. */
const unprintable = (): Record<string, unknown> => ({ toString: 1, valueOf: 1 });

/** Objects carrying prototype-pollution keys as OWN properties (what JSON.parse produces). */
export function pollutionPayloads(): unknown[] {
  return [
    JSON.parse(`{"__proto__": {"${POLLUTION_MARK}": "yes"}}`),
    JSON.parse(`{"constructor": {"prototype": {"${POLLUTION_MARK}": "yes"}}}`),
    JSON.parse(`{"__proto__": {"__proto__": {"${POLLUTION_MARK}": "yes"}}, "type": "report", "id": "report--x"}`),
    JSON.parse(`{"prototype": {"${POLLUTION_MARK}": "yes"}}`),
  ];
}

export function hostileValue(r: Rand, allowHuge: boolean): unknown {
  switch (int(r, 12)) {
    case 0:
      return pick(r, [0, -1, 1.5, 1e308, -0, 2 ** 53 + 1]);
    case 1:
      return pick(r, [true, false, null]);
    case 2:
      return pick(r, UNICODE_EDGES);
    case 3:
      return allowHuge ? pick(r, ['x', '\ud800', '🛡️', 'T1059.']).repeat(50_000 + int(r, 200_000)) : 'x'.repeat(int(r, 2000));
    case 4:
      return deepNest(10 + int(r, allowHuge ? 3000 : 200), r() < 0.5);
    case 5:
      return pick(r, [[], [null], [1, 'a', {}], Array.from({ length: int(r, 50) }, () => pick(r, UNICODE_EDGES))]);
    case 6:
      return pick(r, [{}, unprintable(), { type: unprintable(), id: unprintable() }]);
    case 7:
      return pick(r, pollutionPayloads());
    case 8:
      return `{"broken": ${pick(r, ['', '[', '{"a":', 'NaN', 'undefined', '\u0000'])}`;
    case 9:
      return `${pick(r, ['report', 'attack-pattern', 'security-coverage', 'relationship', 'x'])}--${uuid(r)}`;
    case 10:
      return pick(r, ['{}', '[]', 'null', '"s"', '1', '{"objects": 1}', '{"objects": [1, null, "a"]}', '{"objects": {"length": 5}}']);
    default:
      return undefined;
  }
}

/** A plausible enrichment message (protocol §3.2) with a report of `n` patterns. */
export function baseMessage(r: Rand): Record<string, unknown> {
  const report = `report--${uuid(r)}`;
  const patterns = Array.from({ length: 1 + int(r, 4) }, (_, i) => ({
    type: 'attack-pattern',
    id: `attack-pattern--${uuid(r)}`,
    name: `Technique ${i}`,
    x_mitre_id: `T${1000 + int(r, 600)}`,
    kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'execution' }],
    external_references: [{ source_name: 'mitre-attack', external_id: `T${1000 + int(r, 600)}` }],
  }));
  const coverage = { type: 'security-coverage', id: `security-coverage--${uuid(r)}`, name: 'Coverage', covered_ref: report, periodicity: 'P1D' };
  const objects: Array<Record<string, unknown>> = [
    coverage,
    { type: 'report', id: report, name: 'APT report', object_refs: patterns.map((p) => p.id) },
    ...patterns,
    { type: 'relationship', id: `relationship--${uuid(r)}`, relationship_type: 'uses', source_ref: report, target_ref: patterns[0].id },
  ];
  return {
    internal: { work_id: `work_${uuid(r)}`, applicant_id: null, draft_id: null, trigger: 'create', mode: 'auto' },
    event: {
      event_type: 'INTERNAL_ENRICHMENT',
      entity_id: coverage.id,
      entity_type: 'Security-Coverage',
      stix_entity: coverage,
      stix_objects: { id: uuid(r), type: 'bundle', spec_version: '2.1', objects },
    },
  };
}

/** Every [container, key] pair of a plain JSON tree (for picking a spot to mutate). */
function spots(root: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = [], depth = 0): typeof out {
  if (depth > 6 || !root || typeof root !== 'object') return out;
  if (Array.isArray(root)) {
    root.forEach((v, i) => {
      out.push([root, i]);
      spots(v, out, depth + 1);
    });
  } else {
    for (const [k, v] of Object.entries(root)) {
      out.push([root as Record<string, unknown>, k]);
      spots(v, out, depth + 1);
    }
  }
  return out;
}

function mutateTree(r: Rand, tree: Record<string, unknown>, allowHuge: boolean): void {
  const all = spots(tree);
  if (all.length === 0) return; // an earlier mutation replaced the whole subtree by a scalar
  const [container, key] = pick(r, all);
  const action = int(r, 4);
  if (action === 0 && !Array.isArray(container)) delete (container as Record<string, unknown>)[key as string];
  else if (action === 1) {
    // A prototype-pollution key as an own property, next to the real ones.
    const target = container as Record<string, unknown>;
    const parent = Array.isArray(target) ? undefined : target;
    if (parent) Object.assign(parent, pick(r, pollutionPayloads()));
    else (container as unknown[])[key as number] = pick(r, pollutionPayloads());
  } else (container as Record<string | number, unknown>)[key] = hostileValue(r, allowHuge);
}

/** JSON text with a possible `__proto__` own key preserved (JSON.stringify keeps own keys). */
function encodeJsonField(r: Rand, value: unknown): unknown {
  if (typeof value === 'string' || value === undefined || value === null) return value;
  const text = JSON.stringify(value);
  if (text === undefined) return value;
  switch (int(r, 6)) {
    case 0:
      return text.slice(0, int(r, text.length)); // truncated JSON
    case 1:
      return `${text}}`; // trailing garbage
    case 2:
      return text.replace(/"/, "'"); // not JSON any more
    default:
      return text;
  }
}

export interface FuzzCase {
  kind: string;
  body: Buffer;
}

/** One generated delivery body. */
export function fuzzCase(r: Rand, index: number): FuzzCase {
  const allowHuge = index % 50 === 0;
  const roll = r();
  if (roll < 0.08) {
    // Not a message at all.
    const choice = int(r, 6);
    if (choice === 0) return { kind: 'random-bytes', body: Buffer.from(Array.from({ length: int(r, 4096) }, () => int(r, 256))) };
    if (choice === 1) return { kind: 'json-scalar', body: Buffer.from(JSON.stringify(hostileValue(r, false)) ?? 'null') };
    if (choice === 2) {
      // Built as text: JSON.stringify itself overflows the stack at this depth.
      const depth = 1000 + int(r, 99_000);
      const [open, close] = r() < 0.5 ? ['[', ']'] : ['{"a":', '}'];
      return { kind: 'deep-nesting', body: Buffer.from(`${open.repeat(depth)}1${close.repeat(depth)}`) };
    }
    if (choice === 3) return { kind: 'invalid-utf8', body: Buffer.concat([Buffer.from('{"internal":{"work_id":"'), Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]), Buffer.from('"}}')]) };
    if (choice === 4) return { kind: 'pollution-root', body: Buffer.from(`{"__proto__":{"${POLLUTION_MARK}":1},"constructor":{"prototype":{"${POLLUTION_MARK}":1}}}`) };
    return { kind: 'empty', body: Buffer.alloc(0) };
  }
  const message = baseMessage(r);
  const event = message.event as Record<string, unknown>;
  const mutations = 1 + int(r, 3);
  let kind = 'mutated';
  for (let i = 0; i < mutations; i++) {
    const where = r();
    if (where < 0.35) {
      mutateTree(r, event.stix_objects as Record<string, unknown>, allowHuge);
      kind = 'bundle';
    } else if (where < 0.55) {
      mutateTree(r, event.stix_entity as Record<string, unknown>, allowHuge);
      kind = 'entity';
    } else {
      mutateTree(r, message, allowHuge);
      kind = 'envelope';
    }
  }
  event.stix_entity = encodeJsonField(r, event.stix_entity);
  event.stix_objects = encodeJsonField(r, event.stix_objects);
  let text = JSON.stringify(message);
  if (r() < 0.03) text = text.slice(0, int(r, text.length));
  return { kind, body: Buffer.from(text, 'utf8') };
}

/** A generated STIX object list for the bundle reader (also non-objects: the offline reader passes them on). */
export function fuzzBundle(r: Rand, index: number): { objects: unknown[]; coverage?: unknown; coveredId?: unknown } {
  const message = baseMessage(r);
  const event = message.event as { stix_entity: Record<string, unknown>; stix_objects: { objects: unknown[] } };
  const tree = { objects: event.stix_objects.objects, coverage: event.stix_entity };
  for (let i = 0, n = 1 + int(r, 4); i < n; i++) mutateTree(r, tree as unknown as Record<string, unknown>, index % 50 === 0);
  if (r() < 0.2 && Array.isArray(tree.objects)) tree.objects.push(...Array.from({ length: int(r, 5) }, () => hostileValue(r, false)));
  // Not always an array: the reader must refuse that with a reason too.
  const out: { objects: unknown[]; coverage?: unknown; coveredId?: unknown } = { objects: tree.objects };
  if (r() < 0.7) out.coverage = tree.coverage;
  if (r() < 0.2) out.coveredId = hostileValue(r, false);
  return out;
}
