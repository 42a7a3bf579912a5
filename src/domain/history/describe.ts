import type { Cause, OpenRegression, Recovery, RunChanges, ScoreChange } from './history-types';

/** Human text for history entries: table cells, log lines and the note put on a regressed coverage. */

const score = (v: number | undefined): string => (v === undefined ? 'not measured' : String(v));

/** Causes as one line; the technique is named unless it is `of` (the technique the line is about). */
export function causeText(causes: Cause[], max = 3, of?: string): string {
  const lines = causes.map((c) => (c.techniqueId && c.techniqueId !== of && !c.text.startsWith(c.techniqueId) ? `${c.techniqueId}: ${c.text}` : c.text));
  const shown = lines.slice(0, max).join('; ');
  return lines.length > max ? `${shown}; +${lines.length - max} more` : shown;
}

/** `T1003.001 DETECTION 72 → 0` or `coverage DETECTION 60 → 41`. */
export function subjectText(item: { techniqueId?: string; score: string; from?: number; to?: number }): string {
  return `${item.techniqueId ?? 'coverage'} ${item.score} ${score(item.from)} → ${score(item.to)}`;
}

export function regressionText(r: OpenRegression): string {
  return `${subjectText(r)}: ${causeText(r.causes, 3, r.techniqueId)}`;
}

export function recoveryText(r: Recovery): string {
  const why = r.reason === 'technique-removed' ? 'technique removed from the container' : r.causes.length > 0 ? causeText(r.causes, 3, r.techniqueId) : 'back within the threshold';
  return `${r.techniqueId ?? 'coverage'} ${r.score} back to ${score(r.to)} (was ${r.from} before the drop of ${r.since.slice(0, 10)}): ${why}`;
}

const change = (c: ScoreChange): string => `${c.techniqueId ?? 'coverage'} ${c.score} ${score(c.from)}→${score(c.to)}`;

/** One line: what a run changed (regressions first). */
export function changesSummary(changes: RunChanges, maxItems = 3): string {
  if (changes.first) return 'first run';
  const parts: string[] = [];
  for (const r of changes.regressions.slice(0, maxItems)) parts.push(`REGRESSION ${subjectText(r)} (${causeText(r.causes, 1, r.techniqueId)})`);
  if (changes.regressions.length > maxItems) parts.push(`+${changes.regressions.length - maxItems} more regression(s)`);
  for (const r of changes.recoveries.slice(0, maxItems)) parts.push(`RECOVERED ${r.techniqueId ?? 'coverage'} ${r.score} ${score(r.to)}`);
  if (changes.recoveries.length > maxItems) parts.push(`+${changes.recoveries.length - maxItems} more recover(ies)`);
  const flagged = new Set([...changes.regressions, ...changes.recoveries].map((r) => `${r.techniqueId ?? ''}|${r.score}`));
  const others = changes.scoreChanges.filter((c) => !flagged.has(`${c.techniqueId ?? ''}|${c.score}`));
  if (others.length > 0) {
    const shown = others.slice(0, maxItems).map(change);
    parts.push(others.length > maxItems ? `${shown.join(', ')} +${others.length - maxItems} more` : shown.join(', '));
  }
  if (changes.added.length > 0) parts.push(`added ${changes.added.slice(0, maxItems).map((a) => a.id).join(', ')}${changes.added.length > maxItems ? ` +${changes.added.length - maxItems}` : ''}`);
  if (changes.removed.length > 0) parts.push(`removed ${changes.removed.slice(0, maxItems).join(', ')}${changes.removed.length > maxItems ? ` +${changes.removed.length - maxItems}` : ''}`);
  if (parts.length === 0 && changes.quietChanges.length > 0) parts.push(`evidence: ${causeText(changes.quietChanges, 2)}`);
  return parts.length > 0 ? parts.join('; ') : 'no change';
}

/** Abstract and Markdown content of the note attached to a regressed coverage. */
export function regressionNote(open: OpenRegression[], threshold: number, label: string): { abstract: string; content: string } {
  const first = open[0];
  const abstract = `Coverage regression: ${open.length === 1 ? subjectText(first) : `${open.length} scores dropped (${subjectText(first)}, …)`}`;
  const lines = [
    `**Coverage regression** — ${open.length} score(s) dropped by at least ${threshold} points and have not recovered.`,
    '',
    '| Technique | Score | Before | Now | Since | Cause |',
    '|---|---|---|---|---|---|',
    ...open.map((r) => {
      const who = r.techniqueId ? `${r.techniqueId}${r.techniqueName ? ` ${r.techniqueName}` : ''}` : 'whole coverage';
      return `| ${cell(who)} | ${r.score} | ${r.from} | ${score(r.to)} | ${r.since.slice(0, 16).replace('T', ' ')} | ${cell(causeText(r.causes, 5, r.techniqueId))} |`;
    }),
    '',
    `This note and the \`${label}\` label are removed by the connector when the scores recover. History: \`coverage-connector history <coverage id>\`.`,
  ];
  return { abstract: abstract.length > 250 ? `${abstract.slice(0, 249)}…` : abstract, content: lines.join('\n') };
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
