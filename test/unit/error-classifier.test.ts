import { BackendError, ConnectorError, PlatformUnavailableError, classifyError, errorCodeOf, isErrorCode, AssessmentError } from '../../src/errors';
import { decide } from '../../src/app/outcome';

/**
 * One classifier: the worker's decision (decide), the circuit breaker's and the scheduler's reports
 * (errorCodeOf) name a failure the same way. Codes are typed: the @ts-expect-error lines below fail
 * `tsc --noEmit` (run by CI) the day an unknown code compiles.
 */
const policy = { maxAttempts: 3, backoffBaseMs: 10, backoffMaxMs: 10, random: () => 0 };

describe('the error classifier', () => {
  const cases: Array<[string, unknown]> = [
    ['a ConnectorError', new PlatformUnavailableError('down')],
    ['a look-alike from another module copy', Object.assign(new Error('refused'), { code: 'SIEM_AUTH', retryable: false })],
    ['a library error with its own code', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['an unknown upper-case code', Object.assign(new Error('odd'), { code: 'NOT_OURS', retryable: false })],
    ['a bug', new TypeError('x is undefined')],
    ['a string', 'thrown text'],
  ];

  it.each(cases)('names %s the same for errorCodeOf and decide', (_what, err) => {
    const outcome = decide(err, 1, policy);
    expect(outcome.kind).not.toBe('done');
    expect((outcome as { code: string }).code).toBe(errorCodeOf(err));
  });

  it('keeps the catalogue codes and calls everything else UNEXPECTED (retryable)', () => {
    expect(classifyError(new PlatformUnavailableError('down'))).toEqual({ code: 'PLATFORM_UNAVAILABLE', retryable: true, reason: 'down' });
    expect(classifyError(cases[1][1])).toEqual({ code: 'SIEM_AUTH', retryable: false, reason: 'refused' });
    expect(classifyError(cases[2][1])).toEqual({ code: 'UNEXPECTED', retryable: true, reason: 'socket hang up' });
    expect(classifyError(cases[3][1])).toEqual({ code: 'UNEXPECTED', retryable: true, reason: 'odd' });
    expect(classifyError(Object.assign(new Error('down'), { code: 'PLATFORM_UNAVAILABLE' }))).toEqual({ code: 'PLATFORM_UNAVAILABLE', retryable: true, reason: 'down' });
    expect(isErrorCode('JOB_TIMEOUT')).toBe(true);
    expect(isErrorCode('ECONNRESET')).toBe(false);
  });

  it('does not compile an unknown code', () => {
    // @ts-expect-error 'NOT_A_CODE' is not in ERROR_CODES
    const bad = new ConnectorError('NOT_A_CODE', 'x', false);
    // @ts-expect-error a backend error takes only backend codes
    const wrongFamily = new BackendError('PLATFORM_AUTH', 'x', false);
    // @ts-expect-error an assessment error takes only assessment codes
    const wrongAssessment = new AssessmentError('x', 'SIEM_AUTH');
    expect([bad, wrongFamily, wrongAssessment].every((e) => e instanceof ConnectorError)).toBe(true);
  });
});
