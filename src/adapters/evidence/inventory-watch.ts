import { basename } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { sleep } from '../../retry';

/**
 * Change notifications for the evidence folders and files (chokidar: one inotify watch per folder on
 * Linux, polling-free). Bursts — a `git pull` touching hundreds of rules, an editor's
 * write-rename-chmod — are debounced into one `onChange` with the paths that moved. Hidden entries
 * (.git) and depths past the walker's limit are not watched, as they are not read.
 */

export interface EvidenceWatch {
  /** Resolves once the initial scan is done (changes before it are not reported). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchOptions {
  debounceMs: number;
  onChange: (paths: string[]) => void;
  onError?: (err: Error) => void;
}

const MAX_DEPTH = 32;
/** How long close() waits for the initial scan to end. */
const CLOSE_AFTER_SCAN_MS = 5000;

export function watchEvidence(paths: readonly string[], options: WatchOptions): EvidenceWatch {
  let timer: NodeJS.Timeout | undefined;
  let changed = new Set<string>();
  let closed = false;
  const watcher: FSWatcher = watch([...paths], {
    ignoreInitial: true,
    depth: MAX_DEPTH,
    // Never watch through a link: a target outside the folder or a loop (`loop -> ..`) is not watched
    // (the loader still reads links that stay inside; a change behind one shows at the next change or restart).
    followSymlinks: false,
    // The daemon lives on its broker link and HTTP server; a watch handle must never be what keeps a
    // stopped process alive (chokidar can orphan one when close() lands during an add, see close()).
    persistent: false,
    // A dotted entry below a configured path (.git, .github, editor swap files) is never read.
    ignored: (path: string) => paths.every((p) => p !== path) && basename(path).startsWith('.'),
  });
  const flush = (): void => {
    timer = undefined;
    if (closed || changed.size === 0) return;
    const batch = [...changed].sort();
    changed = new Set();
    options.onChange(batch);
  };
  watcher.on('all', (_event: string, path: string) => {
    changed.add(path);
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, options.debounceMs);
    timer.unref?.();
  });
  watcher.on('error', (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err))));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      // chokidar drops the fs.watch handle of a folder whose add is in flight when close() lands
      // (paulmillr/chokidar#1482): the handle stays open (unref'd: persistent false). Most adds are the
      // initial scan's: let it end first, bounded so that a huge tree cannot hold the shutdown.
      const bound = new AbortController();
      await Promise.race([ready, sleep(CLOSE_AFTER_SCAN_MS, bound.signal).catch(() => undefined)]);
      bound.abort();
      await watcher.close();
    },
  };
}
