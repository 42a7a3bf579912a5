import { Presets, SingleBar } from 'cli-progress';

/**
 * Progress of a long CLI operation (replaying thousands of dead letters, re-triggering every
 * coverage): a cli-progress bar on a terminal, plain lines otherwise (CI logs, pipes), so the output
 * stays readable in both. Writes to stderr: stdout carries the command's result.
 */

export interface Progress {
  /** One more item done; `detail` shows in the plain lines. */
  tick(detail?: string): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force plain lines (or a bar) regardless of the stream. */
  tty?: boolean;
}

/** Plain mode prints about 20 lines at most for big totals, every item for small ones. */
export function plainStep(total: number): number {
  return total <= 20 ? 1 : Math.ceil(total / 20);
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const { total, label } = options;
  let done = 0;
  let stopped = false;

  if (tty && total > 0) {
    const bar = new SingleBar(
      { format: `${label} [{bar}] {value}/{total} {percentage}% | eta {eta_formatted}`, stream: stream as NodeJS.WriteStream, hideCursor: true, clearOnComplete: false },
      Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      tick() {
        done += 1;
        bar.update(done);
      },
      stop() {
        if (stopped) return;
        stopped = true;
        bar.stop();
      },
    };
  }

  const step = plainStep(total);
  return {
    tick(detail) {
      done += 1;
      if (done % step === 0 || done === total) stream.write(`${label}: ${done}/${total}${detail ? ` ${detail}` : ''}\n`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (done !== total && done % step !== 0) stream.write(`${label}: ${done}/${total}\n`);
    },
  };
}

/** Injection points shared by the operator commands (tests: captured output, a fake platform). */
export interface CommandIo {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  /** Where progress goes (default stderr). */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  now?: () => Date;
}

export const writerOf = (io: CommandIo): ((text: string) => void) => io.write ?? ((t: string) => void process.stdout.write(t));
