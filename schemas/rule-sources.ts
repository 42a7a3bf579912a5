import { z } from 'zod';

/**
 * zod schemas of the SIEM rule listings read by the live rule sources (only the fields we use;
 * everything else passes through). One malformed item is skipped and reported, never the page.
 */

const str = z.string();
const flag = z.union([z.boolean(), z.string(), z.number()]).nullish();
const strings = z.array(z.string()).nullish();

/** Kibana detection engine `GET /api/detection_engine/rules/_find` (Security Detections API 2023-10-31). */
export const KibanaFindPageSchema = z.object({
  page: z.number(),
  perPage: z.number(),
  total: z.number(),
  data: z.array(z.unknown()),
});

export const KibanaRuleSchema = z
  .object({
    id: str.optional(),
    rule_id: str,
    name: str.trim().min(1),
    enabled: z.boolean(),
    immutable: z.boolean().nullish(),
    building_block_type: str.nullish(),
    severity: str.nullish(),
    risk_score: z.number().min(0).max(100).nullish(),
    index: strings,
    tags: strings,
    note: str.nullish(),
    related_integrations: z.array(z.object({ package: str }).loose()).nullish(),
    threat: z
      .array(
        z
          .object({
            framework: str,
            technique: z.array(z.object({ id: str, subtechnique: z.array(z.object({ id: str }).loose()).nullish() }).loose()).nullish(),
          })
          .loose(),
      )
      .nullish(),
    execution_summary: z
      .object({ last_execution: z.object({ status: str.nullish(), date: str.nullish(), message: str.nullish() }).loose().nullish() })
      .loose()
      .nullish(),
  })
  .loose();
export type KibanaRule = z.infer<typeof KibanaRuleSchema>;

/** Splunk REST collection answer (`output_mode=json`): `entry[]` and `paging`. */
export const SplunkCollectionSchema = z.object({
  entry: z.array(z.unknown()),
  paging: z.object({ total: z.number(), perPage: z.number(), offset: z.number() }).loose().optional(),
});

/** One saved search (`/servicesNS/-/-/saved/searches`); content keys are savedsearches.conf settings. */
export const SplunkSavedSearchSchema = z
  .object({
    name: str.trim().min(1),
    acl: z.object({ app: str.optional() }).loose().optional(),
    content: z.record(z.string(), z.unknown()),
  })
  .loose();
export type SplunkSavedSearch = z.infer<typeof SplunkSavedSearchSchema>;

/** One search job (`/services/search/jobs`): the latest run of a scheduled search and whether it failed. */
export const SplunkJobSchema = z
  .object({
    published: str.nullish(),
    updated: str.nullish(),
    content: z
      .object({
        label: str.nullish(),
        isSavedSearch: flag,
        isFailed: flag,
        dispatchState: str.nullish(),
        messages: z.unknown().optional(),
      })
      .loose(),
  })
  .loose();
export type SplunkJob = z.infer<typeof SplunkJobSchema>;

/** Azure Resource Manager list answer: `value[]`, `nextLink` while there is more. */
export const ArmListSchema = z.object({ value: z.array(z.unknown()), nextLink: str.nullish() });

/** Microsoft.SecurityInsights alertRules item (Scheduled / NRT carry techniques; Fusion and others do not). */
export const SentinelAlertRuleSchema = z
  .object({
    name: str,
    kind: str.nullish(),
    properties: z
      .object({
        displayName: str.trim().min(1),
        enabled: z.boolean(),
        severity: str.nullish(),
        alertRuleTemplateName: str.nullish(),
        tactics: strings,
        techniques: strings,
        subTechniques: strings,
        entityMappings: z.array(z.unknown()).nullish(),
        customDetails: z.record(z.string(), z.unknown()).nullish(),
      })
      .loose(),
  })
  .loose();
export type SentinelAlertRule = z.infer<typeof SentinelAlertRuleSchema>;

/** alertRuleTemplates item: where a rule's `requiredDataConnectors` live. */
export const SentinelTemplateSchema = z
  .object({
    name: str,
    properties: z
      .object({ requiredDataConnectors: z.array(z.object({ connectorId: str.nullish(), dataTypes: strings }).loose()).nullish() })
      .loose(),
  })
  .loose();

export const OAuthTokenSchema = z.object({ access_token: str.min(1), expires_in: z.union([z.number(), z.string()]).optional() });

/** Wazuh API `GET /rules` (spec 4.14): `data.affected_items`, `data.total_affected_items`. */
export const WazuhRulesPageSchema = z.object({
  data: z.object({ affected_items: z.array(z.unknown()), total_affected_items: z.number() }).loose(),
});

export const WazuhApiRuleSchema = z
  .object({
    id: z.union([z.number(), str]),
    level: z.number().int().min(0).max(16),
    status: str.nullish(),
    filename: str.nullish(),
    description: str.nullish(),
    mitre: z.array(z.union([str, z.object({ id: str }).loose()])).nullish(),
    groups: strings,
  })
  .loose();
export type WazuhApiRule = z.infer<typeof WazuhApiRuleSchema>;

export const WazuhTokenSchema = z.object({ data: z.object({ token: str.min(1) }).loose() });
