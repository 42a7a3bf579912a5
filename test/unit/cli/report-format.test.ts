import type { TechniqueAssessment } from '../../../src/domain/assessment/assessment-types';
import { fit, mainReason, wrap } from '../../../src/app/assess/assess-report';

/** The text layout `assess` prints with: lines within the width, nothing lost when wrapping. */

describe('wrap', () => {
  const words = (lines: string[]): string => lines.map((l) => l.trim()).join(' ');

  it('keeps every word, each line within the width, continuation lines indented', () => {
    const text = 'warning: config/examples/rules/elastic/broken_example_rule.toml: toml: invalid at line 9: control characters are not allowed in strings';
    const lines = wrap(text, 60, '  ');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    for (const l of lines.slice(1)) expect(l.startsWith('  ')).toBe(true);
    expect(words(lines)).toBe(text);
  });

  it('keeps the first line\'s own indentation and splits a word longer than a line', () => {
    const path = `    rule: ${'a/'.repeat(60)}rule.yml`;
    const lines = wrap(path, 40, '      ');
    expect(lines[0].startsWith('    rule:')).toBe(true);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
    expect(lines.map((l) => l.trim()).join('').replace('rule:', 'rule: ')).toBe(path.trim());
  });

  it('leaves short text, and any text at width 0, alone', () => {
    expect(wrap('short', 40)).toEqual(['short']);
    expect(wrap('x '.repeat(100), 0)).toEqual(['x '.repeat(100)]);
  });
});

describe('fit', () => {
  it('cuts to the width and marks the cut', () => {
    expect(fit('Command and Scripting Interpreter', 12)).toBe('Command and…');
    expect(fit('PowerShell', 12)).toBe('PowerShell');
    expect(fit('anything', 0)).toBe('anything');
  });
});

describe('mainReason: the one line shown per technique', () => {
  const base: TechniqueAssessment = { techniqueId: 'T1059.001', tested: true, source: 'embedded', rules: [], controls: [], why: [] };
  const why = [
    'detection 72 = data source 25 + rule quality 22 + validation 0 + enrichment 25',
    'rule quality 22/25: "x" is the strongest of 2 enabled rule(s)',
    'data source 25/25: 2 of 2 enabled rule(s) fed by a collected source',
    'validation 0/25: never validated by an emulation',
    'enrichment 25/25: "x" carries triage/risk context',
    'prevention 100: control "ASR" blocks, validated 2026-01-15',
  ];

  it('names the lowest part, detection parts out of 25 and prevention out of 100', () => {
    const parts = { dataSource: 25, ruleQuality: 22, validation: 0, enrichment: 25 };
    expect(mainReason({ ...base, detection: 72, prevention: 100, detectionParts: parts, why })).toBe('validation 0/25: never validated by an emulation');
    const lowPrevention = why.map((l) => (l.startsWith('prevention') ? 'prevention 25: control "AppLocker" audit only' : l));
    expect(mainReason({ ...base, detection: 97, prevention: 25, detectionParts: { ...parts, validation: 25 }, why: lowPrevention })).toBe('prevention 25: control "AppLocker" audit only');
  });

  it('says why an untested technique is untested, and nothing when every part is full', () => {
    expect(mainReason({ ...base, tested: false, why: ['not tested: no rule was loaded'] })).toBe('not tested: no rule was loaded');
    const full = { dataSource: 25, ruleQuality: 25, validation: 25, enrichment: 25 };
    expect(mainReason({ ...base, detection: 100, prevention: 100, detectionParts: full, why })).toBe('');
  });

  it('falls back to the engine\'s own line when no part line exists (no enabled rule at all)', () => {
    const zero = { dataSource: 0, ruleQuality: 0, validation: 0, enrichment: 0 };
    const lines = ['detection 0 = data source 0 + rule quality 0 + validation 0 + enrichment 0', 'not counted: "x" (disabled)', 'no enabled rule, imported score or emulation result: detection 0 (a real gap)'];
    expect(mainReason({ ...base, detection: 0, detectionParts: zero, why: lines })).toBe('no enabled rule, imported score or emulation result: detection 0 (a real gap)');
  });
});
