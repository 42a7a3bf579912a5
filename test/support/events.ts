import type { EventEmitter } from 'node:events';

/**
 * Resolves after `n` emissions of `event`. One listener counts them all: awaiting `once` in a loop
 * misses emissions that come back to back (several jobs finishing in one tick).
 */
export function times(events: EventEmitter, event: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const count = (): void => {
      seen += 1;
      if (seen < n) return;
      events.off(event, count);
      resolve();
    };
    events.on(event, count);
  });
}
