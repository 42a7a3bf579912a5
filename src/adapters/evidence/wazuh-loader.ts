import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { WazuhRuleElementSchema, type WazuhRuleElement } from '../../../schemas/evidence';
import { normaliseTechniqueId } from '../../domain/coverage/attack-ids';
import type { DetectionRule, Severity } from '../../domain/evidence/evidence-types';
import { fail, isRecord, unique, zodReason, type Loaded } from './parse-text';
import { isUnderDeprecatedFolder } from './rule-common';
import { wazuhPlatforms } from './rule-platforms';

/**
 * Wazuh ruleset XML (ruleset/rules/*.xml, etc/rules/local_rules.xml). One file holds many rules, so it
 * loads to a list. Techniques come from `<mitre><id>` only (a bare `<id>` in a rule is an event-id
 * matcher); tactic ids (TA0001) and `$(field)` placeholders are not techniques. Level 0 rules never
 * raise an alert, so they do not count. A malformed rule rejects its file, as the Wazuh manager does.
 *
 * Hostile input: the text is capped by the reader (LIMITS_MAX_RULE_FILE_BYTES); a DOCTYPE (the way to
 * declare entities) is refused before parsing, and the parser expands no entity at all.
 */

/** Nesting of real rulesets: root > group > rule > mitre > id. Deeper input is refused by the parser. */
const MAX_NESTED_TAGS = 16;
const ROOT = 'wazuh-ruleset';
const ARRAY_TAGS = new Set(['group', 'rule', 'mitre', 'info']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  maxNestedTags: MAX_NESTED_TAGS,
  // `<id>` is a list only under `<mitre>`; under `<rule>` it is an event-id matcher we do not read.
  isArray: (name: string, jPath: unknown) => ARRAY_TAGS.has(name) || (name === 'id' && String(jPath).endsWith('mitre.id')),
});

/** Wazuh's dashboard bands: 0-6 low, 7-11 medium, 12-14 high, 15+ critical. */
export function wazuhSeverity(level: number): Severity {
  if (level >= 15) return 'critical';
  if (level >= 12) return 'high';
  if (level >= 7) return 'medium';
  return 'low';
}

/** Compliance tags share the `<group>` text with real group names; they say nothing of the data. */
const COMPLIANCE_GROUP = /^(pci_dss|gdpr|hipaa|nist_800_53|tsc|gpg13|cis|mitre)_/i;

const groupNames = (names: readonly string[]): string[] =>
  unique(names.flatMap((n) => n.split(',')).map((n) => n.trim().toLowerCase()).filter((n) => n !== '' && !COMPLIANCE_GROUP.test(n)));

/** The five predefined XML entities and character references: decoded once, never expanded further. */
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const decodeEntities = (text: string): string =>
  text.replace(/&(lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-f]{1,6});/gi, (m, name: string) => {
    if (name[0] !== '#') return PREDEFINED[name.toLowerCase()] ?? m;
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });

const textOf = (value: unknown): string =>
  decodeEntities((Array.isArray(value) ? value.map(textOf).join(' ') : isRecord(value) ? textOf(value['#text'] ?? '') : String(value ?? '')).trim());

function ruleOf(element: WazuhRuleElement, fileGroups: string[], path: string): DetectionRule | undefined {
  const ids = (element.mitre ?? []).flatMap((m) => m.id ?? []).map((id) => id.trim());
  const techniques = unique(ids.filter((id) => !id.includes('$(')).map(normaliseTechniqueId).filter((id): id is string => id !== undefined));
  if (techniques.length === 0) return undefined;
  const level = element['@_level'];
  const description = textOf(element.description);
  const platforms = wazuhPlatforms(fileGroups);
  return {
    id: `wazuh:${element['@_id']}`,
    title: description || `Wazuh rule ${element['@_id']}`,
    format: 'wazuh',
    path,
    techniques,
    maturity: isUnderDeprecatedFolder(path) ? 'deprecated' : 'stable',
    // Level 0: matched but never alerted on (grouping rules, noise filters).
    enabled: level > 0,
    severity: wazuhSeverity(level),
    dataSources: fileGroups,
    hasEnrichment: (element.info?.length ?? 0) > 0,
    ...(platforms.length > 0 ? { platforms } : {}),
  };
}

/** A Wazuh ruleset file's text → its rules with an ATT&CK technique, or the issue that replaces the file. */
export function loadWazuhRules(text: string, path: string): Loaded<DetectionRule[]> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) return fail(path, 'xml: DOCTYPE/ENTITY declarations are refused (a ruleset has none; they are how entity-expansion attacks start)');
  // A ruleset file is a sequence of top-level elements, not one document: give it a root.
  const wrapped = `<${ROOT}>${text.replace(/^\s*<\?xml[^>]*\?>/, '')}</${ROOT}>`;
  const valid = XMLValidator.validate(wrapped);
  if (valid !== true) return fail(path, `xml: invalid at line ${valid.err.line}: ${valid.err.msg}`);
  let doc: unknown;
  try {
    doc = parser.parse(wrapped);
  } catch (err) {
    return fail(path, `xml: invalid: ${err instanceof Error ? err.message.split('\n', 1)[0] : String(err)}`);
  }
  const root = isRecord(doc) ? doc[ROOT] : undefined;
  const groups = isRecord(root) && Array.isArray(root.group) ? root.group.filter(isRecord) : [];
  const elements = groups.flatMap((g) => (Array.isArray(g.rule) ? g.rule.map((r) => ({ r, g })) : []));
  if (elements.length === 0) return fail(path, 'xml: not a Wazuh ruleset (no <group> holding <rule> elements)');
  const rules: DetectionRule[] = [];
  for (const { r, g } of elements) {
    const parsed = WazuhRuleElementSchema.safeParse(r);
    if (!parsed.success) {
      const id = isRecord(r) && r['@_id'] !== undefined ? ` ${String(r['@_id'])}` : '';
      return fail(path, zodReason(`wazuh: rule${id}`, parsed.error).replace(/@_/g, ''));
    }
    const rule = ruleOf(parsed.data, groupNames([String(g['@_name'] ?? '')]), path);
    if (rule) rules.push(rule);
  }
  if (rules.length === 0) return fail(path, `wazuh: no ATT&CK technique (<mitre><id>) in any of its ${elements.length} rule(s)`);
  return { ok: true, value: rules };
}

/** Ruleset XML: a `<group` element holding a `<rule` (cheap check before parsing). */
export const looksLikeWazuhRuleset = (text: string): boolean => /<group[\s>]/.test(text) && /<rule[\s>]/.test(text);
