/** Commitlog options with the 1.3.0 defaults and validation (SPEC §1.2, §4). */
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
  /** Write index entries only after the segment was fsynced. Default false. */
  offsetIndexRequireSegmentFsync: boolean;
}

export const DEFAULT_OPTIONS: Readonly<Options> = Object.freeze({
  logFormatVersion: DEFAULT_LOG_FORMAT_VERSION,
  maxSegmentSize: 1024 * 1024 * 1024,
  maxRecordsInCommit: 65535,
  offsetIndexIntervalBytes: 4096,
  offsetIndexRequireSegmentFsync: false,
});

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
