/**
 * Commits as the readers see them, with where they are on disk (the `clog dump` and `clog tail`
 * commands). Built on the traversal's `CommitIterator` (SPEC §7.2), whose `segment` and `byteOffset`
 * describe the commit it yielded last.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredCommit } from '../codec/commit.js';
import type { TraversalError } from '../errors.js';
import { type LogSource, commitIterator } from '../log/free.js';
import type { Repo } from '../repo/repo.js';
import { openLogSource } from './log-dir.js';

/** One line of `clog dump`: the commit's place and framing fields; `records` as hex on request. */
export interface DumpedCommit {
  segment: number;
  byteOffset: number;
  minTxOffset: number;
  epoch: number;
  n: number;
  len: number;
  checksum: number;
  records?: string;
}

export interface DumpOptions {
  /** First transaction offset of interest: dumping starts at the commit holding it. Default 0. */
  from?: number;
  /** Last transaction offset of interest (inclusive): dumping ends with the commit holding it. */
  to?: number;
  /** Include the records as a hex string. */
  records?: boolean;
  // `txdata` (decoded payload) will join here once the payload can be decoded without a schema.
}

export function toDumped(c: StoredCommit, segment: number, byteOffset: number, options: Pick<DumpOptions, 'records'> = {}): DumpedCommit {
  const d: DumpedCommit = {
    segment,
    byteOffset,
    minTxOffset: c.minTxOffset,
    epoch: c.epoch,
    n: c.n,
    len: c.records.length,
    checksum: c.checksum,
  };
  if (options.records) d.records = Buffer.from(c.records.buffer, c.records.byteOffset, c.records.length).toString('hex');
  return d;
}

/** The commits of `source` (a directory or a `Repo`) overlapping `[from, to]`; throws the first traversal error (after the commits before it). */
export function* dumpCommits(source: LogSource, options: DumpOptions = {}): Generator<DumpedCommit, void, undefined> {
  const repo = openLogSource(source);
  const to = options.to ?? Number.POSITIVE_INFINITY;
  const it = commitIterator(repo, options.from ?? 0);
  try {
    for (const r of it.results()) {
      if (!r.ok) throw r.error;
      if (r.value.minTxOffset > to) return;
      yield toDumped(r.value, it.segment, it.byteOffset, options);
    }
  } finally {
    it.release();
  }
}

export interface LastCommits {
  commits: DumpedCommit[];
  /** The traversal error that ended reading early, if any (the commits before it are returned). */
  error: TraversalError | null;
  /** The offset after the last commit returned (where following goes on), 0 for an empty log. */
  nextOffset: number;
}

/** The last `count` commits of `source`, reading only as many of the newest segments as needed. */
export function lastCommits(source: LogSource, count: number, options: Pick<DumpOptions, 'records'> = {}): LastCommits {
  const repo = openLogSource(source);
  const offsets = repo.existingOffsets();
  let last: LastCommits = { commits: [], error: null, nextOffset: 0 };
  for (let i = offsets.length - 1; i >= 0; i--) {
    last = readTail(repo, offsets[i]!, count, options);
    if (last.commits.length >= count || last.error !== null) break;
  }
  return last;
}

function readTail(repo: Repo, from: number, count: number, options: Pick<DumpOptions, 'records'>): LastCommits {
  let ring: DumpedCommit[] = [];
  let error: TraversalError | null = null;
  let nextOffset = 0;
  const it = commitIterator(repo, from);
  for (const r of it.results()) {
    if (!r.ok) {
      error = r.error;
      break;
    }
    nextOffset = r.value.minTxOffset + r.value.n;
    if (count === 0) continue;
    ring.push(toDumped(r.value, it.segment, it.byteOffset, options));
    if (ring.length >= 2 * count) ring = ring.slice(-count);
  }
  return { commits: count === 0 ? [] : ring.slice(-count), error, nextOffset };
}

export interface FollowDumpOptions extends Pick<DumpOptions, 'records'> {
  /** Poll interval in ms. Default 200. */
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Commits from `from` on, then every commit written later (by any process), until `signal` aborts.
 * A traversal error ends a pass (the newest commit may be half written) and is retried on the next.
 */
export async function* followDump(source: LogSource, from: number, options: FollowDumpOptions = {}): AsyncGenerator<DumpedCommit, void, undefined> {
  const repo = openLogSource(source);
  const intervalMs = options.intervalMs ?? 200;
  let next = from;
  while (!options.signal?.aborted) {
    const it = commitIterator(repo, next);
    const batch: DumpedCommit[] = [];
    try {
      for (const r of it.results()) {
        if (!r.ok) break;
        const c = r.value;
        if (c.minTxOffset + c.n <= next && c.n > 0) continue;
        batch.push(toDumped(c, it.segment, it.byteOffset, options));
        next = c.minTxOffset + c.n;
      }
    } finally {
      it.release();
    }
    yield* batch;
    try {
      await sleep(intervalMs, undefined, { signal: options.signal });
    } catch {
      return; // aborted
    }
  }
}
