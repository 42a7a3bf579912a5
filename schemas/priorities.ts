import { z } from 'zod';

/**
 * Gap-priority overrides file (`coverage.priorities_file`, `assess --priorities`). Every key is
 * optional; what is not given keeps the built-in table (docs/scoring.md, "Gap list").
 *
 *   default_prevalence: 5
 *   default_impact: 5
 *   prevalence: { T1059: 10, T1218: 9 }
 *   impact:
 *     tactics: { impact: 10, discovery: 2 }
 *     techniques: { T1486: 10 }
 */
const score = z.number().min(0).max(10);
const techniqueTable = z.record(z.string().regex(/^T\d{4}(\.\d{3})?$/i, 'expected a technique id such as T1059'), score);

export const PrioritiesFileSchema = z
  .object({
    default_prevalence: score.optional(),
    default_impact: score.optional(),
    prevalence: techniqueTable.optional(),
    impact: z
      .object({
        tactics: z.record(z.string(), score).optional(),
        techniques: techniqueTable.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type PrioritiesFile = z.infer<typeof PrioritiesFileSchema>;
