/**
 * Checks a segment's offset index file (SPEC §3) against the commits actually in the segment: every
 * entry must name the byte position where a commit with that `minTxOffset` starts. Entries are read
 * with the log's `IndexFile`; the checker only keeps the entries (bounded by the index capacity), not
 * the commits, so it works on segments of any size.
 */
import { IndexError, NotFoundError, messageOf } from '../errors.js';
import { INDEX_ENTRY_LEN, IndexFile } from '../offset-index/index-file.js';
import type { Repo, StorageFile } from '../repo/repo.js';

export interface IndexSummary {
  /** Length of the index file. */
  bytes: number;
  /** Whole 16-byte entries the file can hold. */
  capacity: number;
  /** Entries before the first zero key (SPEC §3.2). */
  entries: number;
  lastKey: number | null;
  /** Segment byte position the last entry points at. */
  lastByteOffset: number | null;
}

/** A problem in the index file; `byteOffset` is the position in the index file. */
export interface IndexProblem {
  byteOffset: number | null;
  message: string;
}

/** Bytes read at a time when checking the zero-filled tail. */
const TAIL_CHUNK = 64 * 1024;

export class IndexCheck {
  readonly problems: IndexProblem[] = [];
  private keys: number[] = [];
  private values: number[] = [];
  private byKey = new Map<number, number>();
  private matched: Uint8Array = new Uint8Array(0);

  private constructor(
    readonly segment: number,
    readonly summary: IndexSummary,
  ) {}

  /** Null when the segment has no index file (always allowed: readers scan instead). */
  static open(repo: Repo, segment: number): IndexCheck | null {
    let raw: StorageFile;
    try {
      raw = repo.getOffsetIndex(segment);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      const check = new IndexCheck(segment, { bytes: 0, capacity: 0, entries: 0, lastKey: null, lastByteOffset: null });
      check.problems.push({ byteOffset: null, message: `cannot open the offset index: ${messageOf(e)}` });
      return check;
    }
    try {
      const bytes = raw.size();
      const capacity = Math.floor(bytes / INDEX_ENTRY_LEN);
      const check = new IndexCheck(segment, { bytes, capacity, entries: 0, lastKey: null, lastByteOffset: null });
      check.load(repo, segment, raw, bytes);
      return check;
    } finally {
      try {
        raw.close();
      } catch {
        // read-only handle
      }
    }
  }

  private load(repo: Repo, segment: number, raw: StorageFile, bytes: number): void {
    let index: IndexFile;
    try {
      index = IndexFile.open(repo.getOffsetIndex(segment), false);
    } catch (e) {
      this.problems.push({ byteOffset: null, message: `offset index is unreadable: ${messageOf(e instanceof IndexError && e.cause ? e.cause : e)}` });
      return;
    }
    try {
      for (const [key, value] of index.entries()) {
        const i = this.keys.length;
        const last = this.keys[i - 1];
        if (last !== undefined && key <= last) {
          this.problems.push({
            byteOffset: i * INDEX_ENTRY_LEN,
            message: `entry ${i}: key ${key} is not greater than the previous key ${last} (lookups give wrong answers)`,
          });
        }
        this.keys.push(key);
        this.values.push(value);
        if (!this.byKey.has(key)) this.byKey.set(key, i);
      }
    } finally {
      index.close();
    }
    const n = this.keys.length;
    this.matched = new Uint8Array(n);
    this.summary.entries = n;
    this.summary.lastKey = n > 0 ? this.keys[n - 1]! : null;
    this.summary.lastByteOffset = n > 0 ? this.values[n - 1]! : null;
    if (bytes % INDEX_ENTRY_LEN !== 0) {
      this.problems.push({
        byteOffset: bytes - (bytes % INDEX_ENTRY_LEN),
        message: `offset index ends with a partial entry of ${bytes % INDEX_ENTRY_LEN} bytes (ignored by readers)`,
      });
    }
    const hidden = firstNonZero(raw, (n + 1) * INDEX_ENTRY_LEN, this.summary.capacity * INDEX_ENTRY_LEN);
    if (hidden !== null) {
      this.problems.push({
        byteOffset: hidden,
        message: `data after the zero key that ends the index at entry ${n} (readers ignore everything after it)`,
      });
    }
  }

  /** Records that a valid commit `minTxOffset` starts at `byteOffset` of the segment. */
  see(minTxOffset: number, byteOffset: number): void {
    const i = this.byKey.get(minTxOffset);
    if (i !== undefined && this.values[i] === byteOffset) this.matched[i] = 1;
  }

  /**
   * Entries that matched no commit, one problem per run of consecutive ones. `segmentEnd` is the offset
   * after the segment's last valid commit; entries pointing into `damaged` byte ranges of the segment
   * cannot be checked and are left out (the damage is reported already).
   */
  unmatched(segmentEnd: number | null, damaged: ReadonlyArray<readonly [number, number]> = []): IndexProblem[] {
    const out: IndexProblem[] = [];
    const open = (i: number): boolean =>
      !this.matched[i] && !damaged.some(([from, to]) => this.values[i]! >= from && this.values[i]! < to);
    for (let i = 0; i < this.keys.length; i++) {
      if (!open(i)) continue;
      let j = i;
      while (j + 1 < this.keys.length && open(j + 1)) j++;
      const key = this.keys[i]!;
      const stale = segmentEnd !== null && key >= segmentEnd;
      const what =
        i === j
          ? `entry ${i} (offset ${key} → byte ${this.values[i]})`
          : `entries ${i}..${j} (offsets ${key}..${this.keys[j]}, first → byte ${this.values[i]})`;
      out.push({
        byteOffset: i * INDEX_ENTRY_LEN,
        message: stale
          ? `${what} ${i === j ? 'points' : 'point'} past the last commit (stale, e.g. left by resetTo or a crash; the writer can no longer add entries; run 'clog index rebuild')`
          : `${what} do${i === j ? 'es' : ''} not point at a commit with that offset (readers fall back to scanning)`,
      });
      i = j;
    }
    return out;
  }
}

/** Position of the first non-zero byte of `file` in `[from, to)`, or null. */
function firstNonZero(file: StorageFile, from: number, to: number): number | null {
  const buf = new Uint8Array(TAIL_CHUNK);
  for (let pos = from; pos < to; ) {
    const n = file.read(buf, 0, Math.min(buf.length, to - pos), pos);
    if (n <= 0) return null;
    for (let k = 0; k < n; k++) if (buf[k] !== 0) return pos + k;
    pos += n;
  }
  return null;
}
