import { sameCoverage } from '../../../src/domain/coverage/score-equality';

describe('sameCoverage (the daemon\'s loop guard)', () => {
  it('ignores order and the case of names', () => {
    expect(sameCoverage([{ name: 'prevention', score: 50 }, { name: 'DETECTION', score: 75 }], [{ name: 'DETECTION', score: 75 }, { name: 'PREVENTION', score: 50 }])).toBe(true);
  });

  it('sees a changed score, an added type and a removed type', () => {
    const current = [{ name: 'DETECTION', score: 75 }];
    expect(sameCoverage(current, [{ name: 'DETECTION', score: 76 }])).toBe(false);
    expect(sameCoverage(current, [{ name: 'DETECTION', score: 75 }, { name: 'PREVENTION', score: 0 }])).toBe(false);
    expect(sameCoverage([...current, { name: 'PREVENTION', score: 10 }], current)).toBe(false);
  });

  it('compares integer scores as the platform stores them (75.0 equals 75)', () => {
    expect(sameCoverage([{ name: 'DETECTION', score: 75.0 }], [{ name: 'DETECTION', score: 75 }])).toBe(true);
  });

  it('treats nothing stored and nothing to store as equal, and nothing stored vs scores as different', () => {
    expect(sameCoverage(undefined, [])).toBe(true);
    expect(sameCoverage(undefined, [{ name: 'DETECTION', score: 0 }])).toBe(false);
  });
});
