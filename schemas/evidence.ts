import { z } from 'zod';

/**
 * zod schemas of every evidence file the connector reads: the third-party rule formats (only the fields
 * we use; unknown fields pass through), Navigator / DeTT&CT imports, the three YAML inventories and the
 * compact ATT&CK catalogue. Loaders in src/adapters/evidence validate with these; types are z.infer'd.
 */

const text = z.string().trim().min(1);
const stringList = z.array(z.string());
/** A scalar that YAML may have typed as a number or a date-like string: kept as string. */
const looseString = z.union([z.string(), z.number()]).transform(String);

/** ATT&CK technique id once upper-cased: T1059 or T1059.001. */
export const TechniqueIdSchema = z
  .string()
  .trim()
  .transform((s) => s.toUpperCase())
  .pipe(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'expected an ATT&CK technique id such as T1059 or T1059.001'));

/** ISO 8601 date (2026-02-12) or date-time; YAML may hand us a Date. */
export const IsoDateSchema = z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? v.toISOString() : v.trim()))
  .pipe(
    z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'expected an ISO date such as 2026-02-12')
      .refine((s) => !Number.isNaN(Date.parse(s)), 'not a real date'),
  );

// ---------------------------------------------------------------- rule formats

/** SigmaHQ rule (https://github.com/SigmaHQ/sigma-specification). */
export const SigmaRuleSchema = z.object({
  title: text,
  id: looseString.optional(),
  status: z.string().optional(),
  level: z.string().optional(),
  tags: z.array(looseString).optional(),
  logsource: z.object({
    product: looseString.optional(),
    category: looseString.optional(),
    service: looseString.optional(),
  }),
  detection: z.record(z.string(), z.unknown()),
  falsepositives: z.union([z.array(z.unknown()), z.string()]).nullish(),
  references: z.array(z.unknown()).nullish(),
});
export type SigmaRule = z.infer<typeof SigmaRuleSchema>;

const ElasticTechniqueSchema = z.object({
  id: z.string(),
  subtechnique: z.array(z.object({ id: z.string() })).optional(),
});

/** elastic/detection-rules TOML rule. */
export const ElasticRuleSchema = z.object({
  metadata: z
    .object({
      maturity: z.string().optional(),
      integration: z.union([z.array(z.string()), z.string()]).optional(),
    })
    .optional(),
  rule: z.object({
    name: text,
    rule_id: z.string().optional(),
    enabled: z.boolean().optional(),
    risk_score: z.number().min(0).max(100).optional(),
    severity: z.string().optional(),
    index: stringList.optional(),
    note: z.string().optional(),
    query: z.string().optional(),
    building_block_type: z.string().optional(),
    tags: stringList.optional(),
    threat: z
      .array(
        z.object({
          framework: z.string(),
          technique: z.array(ElasticTechniqueSchema).optional(),
        }),
      )
      .optional(),
  }),
});
export type ElasticRule = z.infer<typeof ElasticRuleSchema>;

/** splunk/security_content detection YAML. */
export const SplunkDetectionSchema = z.object({
  name: text,
  id: looseString.optional(),
  status: z.string().optional(),
  search: z.string(),
  data_source: z.array(looseString).nullish(),
  drilldown_searches: z.array(z.unknown()).nullish(),
  rba: z
    .object({ risk_objects: z.array(z.object({ score: z.number().optional() }).loose()).optional() })
    .loose()
    .nullish(),
  tags: z
    .object({
      mitre_attack_id: z.array(looseString).nullish(),
      risk_score: z.number().optional(),
      observable: z.array(z.unknown()).nullish(),
      asset_type: looseString.optional(),
    })
    .loose()
    .optional(),
});
export type SplunkDetection = z.infer<typeof SplunkDetectionSchema>;

/**
 * Azure-Sentinel analytic rule template YAML (Solutions/<x>/Analytic Rules, Detections). Tags may be
 * mappings; status and kind are often absent (shared/samples/README.md lists what real files do).
 */
export const SentinelRuleSchema = z.object({
  id: looseString.optional(),
  name: text,
  status: z.string().nullish(),
  severity: z.string().nullish(),
  kind: z.string().nullish(),
  query: z.string().nullish(),
  relevantTechniques: z.array(looseString).nullish(),
  requiredDataConnectors: z
    .array(z.object({ connectorId: looseString.optional(), dataTypes: z.array(looseString).nullish() }).loose())
    .nullish(),
  entityMappings: z.array(z.unknown()).nullish(),
  customDetails: z.record(z.string(), z.unknown()).nullish(),
});
export type SentinelRule = z.infer<typeof SentinelRuleSchema>;

/** One `<rule>` of a Wazuh ruleset file, as fast-xml-parser gives it (attributes prefixed `@_`). */
export const WazuhRuleElementSchema = z
  .object({
    '@_id': looseString,
    '@_level': looseString.pipe(z.string().regex(/^\d{1,2}$/, 'expected a level from 0 to 16').transform(Number)),
    description: z.union([looseString, z.array(looseString)]).optional(),
    mitre: z.array(z.object({ id: z.array(looseString).optional() }).loose()).optional(),
    group: z.array(looseString).optional(),
    info: z.array(z.unknown()).optional(),
  })
  .loose();
export type WazuhRuleElement = z.infer<typeof WazuhRuleElementSchema>;

// ---------------------------------------------------------------- imported scores

/** ATT&CK Navigator layer, format 4.x (layerformat-v4.5.md); only what we read is checked. */
export const NavigatorLayerSchema = z.object({
  name: z.string(),
  domain: z.enum(['enterprise-attack', 'mobile-attack', 'ics-attack']),
  versions: z
    .object({
      attack: looseString.optional(),
      navigator: looseString,
      layer: looseString.refine((v) => /^4(\.\d+)*$/.test(v), 'expected layer format version 4.x'),
    })
    .optional(),
  techniques: z.array(z.unknown()).default([]),
  gradient: z
    .object({ colors: z.array(z.string()).min(2), minValue: z.number(), maxValue: z.number() })
    .refine((g) => g.maxValue > g.minValue, 'gradient.maxValue must be greater than gradient.minValue')
    .optional(),
});
export type NavigatorLayer = z.infer<typeof NavigatorLayerSchema>;

export const NavigatorTechniqueSchema = z.object({
  techniqueID: TechniqueIdSchema,
  tactic: z.string().optional(),
  score: z.number().nullish(),
  comment: z.string().optional(),
  enabled: z.boolean().default(true),
});

const DettectLogbookEntrySchema = z.object({
  date: z.union([z.string(), z.date()]).nullish(),
  score: z.number().int().nullish(),
  comment: z.string().nullish(),
});

const dettectScoreObject = (min: number, max: number) =>
  z.object({
    applicable_to: z.array(looseString).nullish(),
    score_logbook: z
      .array(DettectLogbookEntrySchema.refine((e) => e.score === null || e.score === undefined || (e.score >= min && e.score <= max), `score must be ${min}..${max}`))
      .nullish(),
  });

/** One technique of a DeTT&CT technique-administration file (v1.2). */
export const DettectTechniqueSchema = z.object({
  technique_id: TechniqueIdSchema,
  technique_name: z.string().nullish(),
  detection: z.union([dettectScoreObject(-1, 5), z.array(dettectScoreObject(-1, 5))]).nullish(),
  visibility: z.union([dettectScoreObject(0, 4), z.array(dettectScoreObject(0, 4))]).nullish(),
});
export type DettectTechnique = z.infer<typeof DettectTechniqueSchema>;

export const DettectFileSchema = z.object({
  file_type: z.literal('technique-administration'),
  name: looseString.optional(),
  techniques: z.array(z.unknown()),
});

// ---------------------------------------------------------------- inventories

/** controls.yml entry: a prevention control and what it covers. */
export const ControlEntrySchema = z.object({
  id: looseString.pipe(text),
  name: text,
  mode: z.enum(['block', 'audit', 'disabled']),
  techniques: z.array(TechniqueIdSchema).default([]),
  mitigations: z
    .array(
      z
        .string()
        .trim()
        .transform((s) => s.toUpperCase())
        .pipe(z.string().regex(/^M\d{4}$/, 'expected an ATT&CK mitigation id such as M1038')),
    )
    .default([]),
  validated: IsoDateSchema.optional(),
  /** Platforms the control protects (windows, linux, macos…); absent: every platform. */
  platforms: z.array(looseString).optional(),
});
export type ControlEntry = z.infer<typeof ControlEntrySchema>;

/** data-sources.yml entry; ids and aliases are matched lower-case. */
export const DataSourceEntrySchema = z.object({
  id: looseString.pipe(text).transform((s) => s.toLowerCase()),
  name: z.string().optional(),
  collected: z.boolean(),
  aliases: z
    .array(looseString.pipe(text).transform((s) => s.toLowerCase()))
    .default([]),
});
export type DataSourceEntryInput = z.infer<typeof DataSourceEntrySchema>;

/** One emulation result (validation file, YAML/JSON `results:` or CSV rows). */
export const ValidationEntrySchema = z.object({
  technique: TechniqueIdSchema,
  date: IsoDateSchema,
  outcome: z
    .string()
    .trim()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['prevented', 'detected', 'logged', 'none'])),
  test: looseString.optional(),
});
export type ValidationEntry = z.infer<typeof ValidationEntrySchema>;

/** Top level of each inventory: the list key must be there; entries are validated one by one. */
export const ControlsFileSchema = z.object({ controls: z.array(z.unknown()) });
export const DataSourcesFileSchema = z.object({ data_sources: z.array(z.unknown()) });
export const ValidationFileSchema = z.object({ results: z.array(z.unknown()) });

// ---------------------------------------------------------------- ATT&CK catalogue

export const CatalogueTechniqueSchema = z.object({
  id: TechniqueIdSchema,
  name: z.string(),
  parent: z.string().optional(),
  tactics: stringList,
  platforms: stringList,
  dataComponents: stringList,
  mitigations: stringList,
  deprecated: z.boolean(),
  revoked: z.boolean(),
  revokedBy: z.string().optional(),
});

/** The compact catalogue `coverage-connector attack import` writes. */
export const AttackCatalogueSchema = z.object({
  version: z.string(),
  techniques: z.record(z.string(), CatalogueTechniqueSchema),
  mitigations: z.record(z.string(), z.object({ id: z.string(), name: z.string() })),
});
