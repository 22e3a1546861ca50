/** Tx offset ranges for streaming (SPEC §11.1). */
import { checkU64Input } from '../codec/u64.js';

import type { TxRange } from '../log/traversal.js';

export type { TxRange };

/** Rust `RangeFromMaybeToInclusive`: `end` null = unbounded. */
export interface RangeInclusive {
  start: number;
  end: number | null;
}

/**
 * An exclusive end becomes `end - 1` saturating at 0, so `0..0` contains 0 (QUIRK Q9): it is the only
 * `a..a` range that is not empty.
 */
export function rangeFromBounds(range: TxRange = {}): RangeInclusive {
  const start = range.start === undefined ? 0 : checkU64Input(range.start, 'range start');
  if (range.end === undefined) return { start, end: null };
  const end = checkU64Input(range.end, 'range end');
  return { start, end: range.endInclusive ? end : Math.max(0, end - 1) };
}

export function isEmptyRange(r: RangeInclusive): boolean {
  return r.end !== null && r.end < r.start;
}

export function rangeContains(r: RangeInclusive, x: number): boolean {
  return x >= r.start && (r.end === null || x <= r.end);
}

/** The segments (by first offset, ascending) that may hold commits of `range`. */
export function retainRange(offsets: readonly number[], range: RangeInclusive): number[] {
  if (isEmptyRange(range)) return [];
  const out: number[] = [];
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i]!;
    const next = i + 1 < offsets.length ? offsets[i + 1]! : Infinity;
    if ((range.start >= o && range.start < next) || rangeContains(range, o)) out.push(o);
  }
  return out;
}
