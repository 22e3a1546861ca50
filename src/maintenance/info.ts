/**
 * `logInfo(dir)`: what a log directory holds, segment by segment (the `clog info` command): file and
 * decompressed sizes, offsets, epochs, format version, compression, offset index coverage. Read-only;
 * a damaged segment is described up to the damage, with the reason in `error` (`verify` says more).
 */
import type { LogSource } from '../log/free.js';
import { FsRepo } from '../repo/fs.js';
import { type Repo, indexFileName, segmentFileName } from '../repo/repo.js';
import { type IndexSummary, IndexCheck } from './index-check.js';
import { fileAllocated, fileSize, listLogSource, openLogSource, sourceName } from './log-dir.js';
import { scanSegment } from './segment-scan.js';

export interface SegmentIndexInfo extends IndexSummary {
  /** Share of the segment's bytes before the last entry's commit: how far a lookup can jump, 0..1. */
  coverage: number;
}

export interface SegmentInfo {
  /** First offset (from the file name). */
  segment: number;
  file: string;
  /** Length of the file (its apparent size). */
  bytes: number;
  /** Disk blocks allocated to the segment and its index file, bytes (sparse index files take less than their length). */
  allocated: number;
  /** Length of the segment's content: the decompressed length for a compressed segment. */
  size: number;
  compressed: boolean;
  /** Log format version from the segment header (null if the header is unreadable). */
  version: number | null;
  checksumAlgorithm: number | null;
  /** Readable commits (up to the first damaged one). */
  commits: number;
  /** First and last transaction offset of those commits (null if none). */
  minTxOffset: number | null;
  maxTxOffset: number | null;
  minEpoch: number | null;
  maxEpoch: number | null;
  index: SegmentIndexInfo | null;
  /** Why reading stopped early, or null. */
  error: string | null;
}

export interface LogInfo {
  dir: string;
  segments: SegmentInfo[];
  totals: {
    segments: number;
    compressedSegments: number;
    /** Apparent size (file lengths) of segments and index files. */
    bytes: number;
    /** Disk space allocated to segments and index files (`st_blocks × 512`): what they take on disk. */
    allocated: number;
    /** Decompressed segment bytes. */
    size: number;
    commits: number;
    minTxOffset: number | null;
    maxTxOffset: number | null;
    maxEpoch: number | null;
  };
}

export interface LogInfoOptions {
  /**
   * A segment's description from an earlier call, if the caller knows it is still right (a cache
   * keyed by the files' sizes and mtimes, as `clog ui` keeps); undefined to read the segment.
   */
  reuse?: (segment: number) => SegmentInfo | undefined;
}

/**
 * A repo that is not a directory (an `S3Repo`) may say how many bytes a segment takes where it is
 * stored; otherwise the segment's size stands for it.
 */
interface StoredSizes {
  storedSize?(offset: number): number;
}

/** Describes the log in `source`: a directory, or a `Repo` such as an `S3Repo` (then `dir` is its URL). */
export function logInfo(source: LogSource, options: LogInfoOptions = {}): LogInfo {
  const repo = openLogSource(source);
  const segments: SegmentInfo[] = [];
  for (const segment of listLogSource(repo).offsets) segments.push(options.reuse?.(segment) ?? segmentInfo(repo, segment));
  const withCommits = segments.filter((s) => s.commits > 0);
  const epochs = withCommits.map((s) => s.maxEpoch!);
  return {
    dir: sourceName(repo),
    segments,
    totals: {
      segments: segments.length,
      compressedSegments: segments.filter((s) => s.compressed).length,
      // An archive's index is built from its manifest: it takes no bytes of its own.
      bytes: segments.reduce((sum, s) => sum + s.bytes + (repo instanceof FsRepo ? (s.index?.bytes ?? 0) : 0), 0),
      allocated: segments.reduce((sum, s) => sum + s.allocated, 0),
      size: segments.reduce((sum, s) => sum + s.size, 0),
      commits: segments.reduce((sum, s) => sum + s.commits, 0),
      minTxOffset: withCommits.length > 0 ? withCommits[0]!.minTxOffset : null,
      maxTxOffset: withCommits.length > 0 ? withCommits[withCommits.length - 1]!.maxTxOffset : null,
      maxEpoch: epochs.length > 0 ? Math.max(...epochs) : null,
    },
  };
}

function segmentInfo(repo: Repo, segment: number): SegmentInfo {
  const file = segmentFileName(segment);
  const info: SegmentInfo = {
    segment,
    file,
    bytes: repo instanceof FsRepo ? (fileSize(repo.root, file) ?? 0) : 0,
    allocated: repo instanceof FsRepo ? (fileAllocated(repo.root, file) ?? 0) + (fileAllocated(repo.root, indexFileName(segment)) ?? 0) : 0,
    size: 0,
    compressed: false,
    version: null,
    checksumAlgorithm: null,
    commits: 0,
    minTxOffset: null,
    maxTxOffset: null,
    minEpoch: null,
    maxEpoch: null,
    index: null,
    error: null,
  };
  const index = IndexCheck.open(repo, segment);
  for (const ev of scanSegment(repo, segment)) {
    switch (ev.type) {
      case 'file':
        info.size = ev.size;
        info.compressed = ev.compressed;
        break;
      case 'header':
        info.version = ev.header.logFormatVersion;
        info.checksumAlgorithm = ev.header.checksumAlgorithm;
        break;
      case 'problem':
        info.error = `byte ${ev.byteOffset}: ${ev.message}`;
        break;
      case 'commit': {
        const c = ev.commit;
        info.commits++;
        info.minTxOffset ??= c.minTxOffset;
        info.maxTxOffset = c.minTxOffset + c.n - 1;
        info.minEpoch = info.minEpoch === null ? c.epoch : Math.min(info.minEpoch, c.epoch);
        info.maxEpoch = info.maxEpoch === null ? c.epoch : Math.max(info.maxEpoch, c.epoch);
        break;
      }
    }
  }
  if (!(repo instanceof FsRepo)) {
    info.bytes = (repo as Repo & StoredSizes).storedSize?.(segment) ?? info.size;
    info.allocated = info.bytes;
  }
  if (index) {
    const s = index.summary;
    const coverage = s.lastByteOffset !== null && info.size > 0 ? Math.min(1, s.lastByteOffset / info.size) : 0;
    info.index = { ...s, coverage: Math.round(coverage * 1000) / 1000 };
  }
  return info;
}
