/**
 * Commitlog options with their defaults and validation (SPEC §1.2, §4). The defaults are 1.3.0's
 * (the reference for the bytes written); `UPSTREAM_2_8_DEFAULTS` holds SpacetimeDB 2.8.3's, which
 * differ in `offsetIndexRequireSegmentFsync` only (see docs/api.md, "Upstream 2.8").
 */
import { DEFAULT_LOG_FORMAT_VERSION } from './codec/segment-header.js';
import { InvalidInputError } from './errors.js';

export interface Options {
  /** Version byte written into new segment headers, and the highest version read. Default 1. */
  logFormatVersion: number;
  /** Soft size limit of a segment in bytes; a single larger commit still fits an empty one. Default 1 GiB. */
  maxSegmentSize: number;
  /** Records per commit before `append` reports the commit full (1..65535). Default 65535. */
  maxRecordsInCommit: number;
  /** Bytes written between two offset index entries (≥ 1). Default 4096. */
  offsetIndexIntervalBytes: number;
  /**
   * Write index entries only after the segment was fsynced. Default false (1.3.0; 2.8.3 defaults to
   * true). Readers check every entry against the segment, so an entry ahead of an fsync is harmless,
   * and with false the index files are a function of the commits alone (byte-identical mirrors,
   * rebuilds).
   */
  offsetIndexRequireSegmentFsync: boolean;
  /**
   * Keep zero-filled space ahead of the head segment (2.8.3's `preallocate_segments`): the writer
   * then overwrites allocated blocks and an fsync has no size change to journal. Maps to the
   * `FsRepo` preallocation (`preallocateBytes` = min(maxSegmentSize, 64 MiB)); no effect on other
   * repos. Default false.
   */
  preallocateSegments: boolean;
  /**
   * Initial capacity in bytes of the buffer a commit is built in (2.8.3's `write_buffer_size`). It
   * grows when a commit needs more; every commit is still written with one call. Default 128 KiB.
   */
  writeBufferSize: number;
}

export const DEFAULT_OPTIONS: Readonly<Options> = Object.freeze({
  logFormatVersion: DEFAULT_LOG_FORMAT_VERSION,
  maxSegmentSize: 1024 * 1024 * 1024,
  maxRecordsInCommit: 65535,
  offsetIndexIntervalBytes: 4096,
  offsetIndexRequireSegmentFsync: false,
  preallocateSegments: false,
  writeBufferSize: 128 * 1024,
});

/** SpacetimeDB 2.8.3's `Options::DEFAULT`, for a log configured like an upstream 2.8 server's. */
export const UPSTREAM_2_8_DEFAULTS: Readonly<Options> = Object.freeze({
  ...DEFAULT_OPTIONS,
  offsetIndexRequireSegmentFsync: true,
});

/** Upper bound of `writeBufferSize`: a commit's records are at most this long anyway. */
const MAX_WRITE_BUFFER_SIZE = 256 * 1024 * 1024;

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`option ${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

/** Fills in defaults and rejects what Rust's types make unrepresentable. */
export function resolveOptions(given: Partial<Options> = {}): Options {
  const o = { ...DEFAULT_OPTIONS, ...dropUndefined(given) };
  integerIn('logFormatVersion', o.logFormatVersion, 0, 255);
  integerIn('maxSegmentSize', o.maxSegmentSize, 0, Number.MAX_SAFE_INTEGER);
  integerIn('maxRecordsInCommit', o.maxRecordsInCommit, 1, 65535);
  integerIn('offsetIndexIntervalBytes', o.offsetIndexIntervalBytes, 1, Number.MAX_SAFE_INTEGER);
  if (typeof o.offsetIndexRequireSegmentFsync !== 'boolean') {
    throw new InvalidInputError('option offsetIndexRequireSegmentFsync must be a boolean');
  }
  if (typeof o.preallocateSegments !== 'boolean') {
    throw new InvalidInputError('option preallocateSegments must be a boolean');
  }
  integerIn('writeBufferSize', o.writeBufferSize, 1, MAX_WRITE_BUFFER_SIZE);
  return o;
}

function dropUndefined(o: Partial<Options>): Partial<Options> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<Options>;
}

/** Capacity of a segment's offset index in entries: `floor(maxSegmentSize / offsetIndexIntervalBytes)`. */
export function offsetIndexLen(o: Options): number {
  return Math.floor(o.maxSegmentSize / o.offsetIndexIntervalBytes);
}
