/**
 * Noticing that a log directory changed without reading it: a fingerprint made of file names, sizes
 * and mtimes (one `readdir` and a few `stat`s), and what `clog ui` builds on it: a per-segment cache
 * of `logInfo` for `/api/overview`, and `LogWatcher`, which polls the fingerprint and reads only the commits after
 * the last one it saw (the traversal seeks there through the offset index) when it changed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DumpedCommit, type LogInfo, type SegmentInfo, dumpCommits, lastCommits, logInfo } from '../api/ops.js';
import { ErrorCodes, InvalidInputError, fromSystemError, indexFileName, segmentFileName } from '../index.js';

const LOG_FILE_RE = /\.stdb\.(log|ofs)$/;

/** `name:size:mtime` of each log file (segments and index files) of `dir`, by name. */
function logFileStats(dir: string, only?: (names: string[]) => string[]): Map<string, string> {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => LOG_FILE_RE.test(n)).sort();
  } catch (e) {
    throw fromSystemError(e, `readdir ${dir}`);
  }
  const stats = new Map<string, string>(names.map((n) => [n, '']));
  for (const n of only ? only(names) : names) {
    try {
      const st = fs.statSync(path.join(dir, n));
      stats.set(n, `${st.size}:${st.mtimeMs}`);
    } catch {
      stats.set(n, 'gone'); // removed between readdir and stat: the next look sees the new listing
    }
  }
  return stats;
}

/** The names of the log files plus size and mtime of the newest segment: what an appending writer changes. */
export function headFingerprint(dir: string): string {
  const head = (names: string[]): string[] => names.filter((n) => n.endsWith('.stdb.log')).slice(-1);
  return [...logFileStats(dir, head)].map(([n, st]) => `${n}:${st}`).join('|');
}

/**
 * `logInfo(dir)` for `/api/overview`, which reads every segment: kept per segment, and a segment is
 * read again only when its file or its index file changed size or mtime. A growing log costs a read
 * of its newest segment, not of all of them.
 */
export class OverviewCache {
  private readonly segments = new Map<number, { key: string; info: SegmentInfo }>();
  /** Segments read (for tests). */
  segmentsRead = 0;

  constructor(private readonly dir: string) {}

  get(): LogInfo {
    const stats = logFileStats(this.dir);
    const keyOf = (segment: number): string => `${stats.get(segmentFileName(segment))}|${stats.get(indexFileName(segment)) ?? '-'}`;
    const seen = new Set<number>();
    const info = logInfo(this.dir, {
      reuse: (segment) => {
        seen.add(segment);
        const hit = this.segments.get(segment);
        return hit !== undefined && hit.key === keyOf(segment) ? hit.info : undefined;
      },
    });
    for (const s of info.segments) {
      const key = keyOf(s.segment);
      if (this.segments.get(s.segment)?.info !== s) this.segmentsRead++;
      this.segments.set(s.segment, { key, info: s });
    }
    for (const segment of this.segments.keys()) if (!seen.has(segment)) this.segments.delete(segment);
    return info;
  }
}

export interface LiveBatch {
  commits: DumpedCommit[];
  /** The offset after the last commit of the log seen so far. */
  next: number;
  /** Commits came that are not in `commits` (more than `maxBatch` in one poll): fetch the gap by page. */
  truncated: boolean;
}

export interface LogWatcherOptions {
  pollMs: number;
  /** Commits at most in one batch (the newest are kept). */
  maxBatch: number;
  /** Commits read at most in one poll: a writer far ahead is caught up with over several polls. */
  maxReadPerPoll: number;
}

/**
 * Polls one log directory for everyone watching it. Runs only while someone listens; `onBatch` gets the
 * commits appended since the previous batch, `onProblem` a traversal error that is not a torn tail
 * (a commit still being written is retried at the next change).
 */
export class LogWatcher {
  private timer: NodeJS.Timeout | null = null;
  private fingerprint: string | null = null;
  private nextOffset: number | null = null;
  /** The last poll stopped at `maxReadPerPoll`: read on without waiting for a change. */
  private behind = false;
  private lastProblem: string | null = null;

  constructor(
    private readonly dir: string,
    private readonly options: LogWatcherOptions,
    private readonly onBatch: (batch: LiveBatch) => void,
    private readonly onProblem: (message: string) => void,
  ) {
    if (!Number.isInteger(options.pollMs) || options.pollMs < 10) throw new InvalidInputError('pollMs must be an integer ≥ 10');
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** The offset after the newest commit seen (reads the newest segment the first time). */
  next(): number {
    if (this.nextOffset === null) {
      this.fingerprint = headFingerprint(this.dir);
      this.nextOffset = lastCommits(this.dir, 0).nextOffset;
    }
    return this.nextOffset;
  }

  start(): void {
    if (this.timer !== null) return;
    this.next();
    this.timer = setInterval(() => {
      // A throw in a timer would end the process: whatever goes wrong here is a `problem` event.
      try {
        this.poll();
      } catch (e) {
        this.problem((e as Error).message);
      }
    }, this.options.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    // Whatever happens while nobody watches is not tracked: start again from the end then.
    this.nextOffset = null;
    this.fingerprint = null;
  }

  /** One poll; public for tests. */
  poll(): void {
    let fp: string;
    try {
      fp = headFingerprint(this.dir);
    } catch (e) {
      this.problem((e as Error).message);
      return;
    }
    if (fp === this.fingerprint && !this.behind) return;
    this.fingerprint = fp;
    const from = this.next();
    const commits: DumpedCommit[] = [];
    let read = 0;
    let next = from;
    this.behind = false;
    try {
      for (const c of dumpCommits(this.dir, { from })) {
        // The commit holding `from` may start before it (a commit holds n offsets); it was sent already.
        if (c.minTxOffset + c.n <= from) continue;
        commits.push(c);
        if (commits.length > this.options.maxBatch) commits.shift();
        next = c.minTxOffset + c.n;
        if (++read >= this.options.maxReadPerPoll) {
          this.behind = true;
          break;
        }
      }
      this.lastProblem = null;
    } catch (e) {
      if (!isTornTail(e)) this.problem((e as Error).message);
    }
    if (read === 0) return;
    this.nextOffset = next;
    this.onBatch({ commits, next, truncated: read > commits.length });
  }

  private problem(message: string): void {
    if (message === this.lastProblem) return; // said once, not at every poll
    this.lastProblem = message;
    this.onProblem(message);
  }
}

/** A read that ended in a commit cut short: a writer is in the middle of it (or a crash left it). */
function isTornTail(e: unknown): boolean {
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    if ((c as { code?: string }).code === ErrorCodes.UNEXPECTED_EOF) return true;
  }
  return false;
}
