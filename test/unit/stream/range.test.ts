/**
 * Stream ranges and segment selection (SPEC §11.1, §13.5 R1–R8, QUIRK Q9/Q43), ported from the
 * `retain_range` tests of the reference `src/stream/common.rs`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  isEmptyRange,
  rangeContains,
  rangeFromBounds,
  retainRange,
  type RangeInclusive,
} from '../../../src/index.js';

const RUNS = { numRuns: 256 };
/** Offsets stay well below 2^53 so that `start + 16` etc. are exact. */
const MAX = Number.MAX_SAFE_INTEGER - 1024;

/** Rust `start..end` (exclusive end). */
function excl(start: number, end: number): RangeInclusive {
  return rangeFromBounds({ start, end });
}

function from(start: number): RangeInclusive {
  return rangeFromBounds({ start });
}

describe('rangeFromBounds (§11.1 table)', () => {
  it('unbounded is {0, null}', () => {
    expect(rangeFromBounds({})).toEqual({ start: 0, end: null });
    expect(rangeFromBounds()).toEqual({ start: 0, end: null });
  });

  it('included bounds are kept, an excluded end becomes end − 1', () => {
    expect(rangeFromBounds({ start: 25, end: 50 })).toEqual({ start: 25, end: 49 });
    expect(rangeFromBounds({ start: 25, end: 50, endInclusive: true })).toEqual({ start: 25, end: 50 });
    expect(rangeFromBounds({ end: 50 })).toEqual({ start: 0, end: 49 });
    expect(rangeFromBounds({ start: 7 })).toEqual({ start: 7, end: null });
  });

  it('Q9: exclusive 0..0 saturates to {0, 0}: not empty, contains 0', () => {
    const r = excl(0, 0);
    expect(r).toEqual({ start: 0, end: 0 });
    expect(isEmptyRange(r)).toBe(false);
    expect(rangeContains(r, 0)).toBe(true);
    expect(rangeContains(r, 1)).toBe(false);
  });

  it('every other a..a is empty and contains nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX }), fc.integer({ min: 0, max: MAX }), (a, x) => {
        const r = excl(a, a);
        expect(isEmptyRange(r)).toBe(true);
        expect(rangeContains(r, x)).toBe(false);
      }),
      RUNS,
    );
  });

  it('contains(x) ⇔ start ≤ x ≤ end (or unbounded)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1100 }),
        (start, end, inclusive, x) => {
          const r = rangeFromBounds({ start, end, endInclusive: inclusive });
          const hi = end === undefined ? Infinity : inclusive ? end : Math.max(0, end - 1);
          expect(rangeContains(r, x)).toBe(x >= start && x <= hi);
          expect(isEmptyRange(r)).toBe(hi < start);
        },
      ),
      RUNS,
    );
  });

  it('rejects negative and unsafe bounds', () => {
    expect(() => rangeFromBounds({ start: -1 })).toThrow(InvalidInputError);
    expect(() => rangeFromBounds({ end: 1.5 })).toThrow(InvalidInputError);
    expect(() => rangeFromBounds({ end: 2 ** 53 })).toThrow(InvalidInputError);
  });
});

describe('retainRange (§13.5 R1–R8)', () => {
  const offsets = [0, 10, 20, 30];

  it('R1 retain single commit: [0, 10], 19..=19 → [10]', () => {
    expect(retainRange([0, 10], rangeFromBounds({ start: 19, end: 19, endInclusive: true }))).toEqual([10]);
  });

  it('R2 retain on boundary: start.. for each segment start → suffix from that segment', () => {
    offsets.forEach((start, i) => {
      expect(retainRange(offsets, from(start))).toEqual(offsets.slice(i));
    });
  });

  it('R3 retain between boundaries: 5.., 11.., 29..', () => {
    expect(retainRange(offsets, from(5))).toEqual([0, 10, 20, 30]);
    expect(retainRange(offsets, from(11))).toEqual([10, 20, 30]);
    expect(retainRange(offsets, from(29))).toEqual([20, 30]);
  });

  it('R4 retain with upper bound: 11..29 → [10, 20]', () => {
    expect(retainRange(offsets, excl(11, 29))).toEqual([10, 20]);
  });

  it('R5 (proptest) start.. with start ≥ 30 → [30]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 30, max: MAX }), (start) => {
        expect(retainRange(offsets, from(start))).toEqual([30]);
      }),
      RUNS,
    );
  });

  it('R6 (proptest) empty offsets, any start → []', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), (start) => {
        expect(retainRange([], from(start))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('R7 (proptest) start..start with start ≥ 1 → [] (Q43: the reference never draws 0)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX }), (start) => {
        expect(retainRange(offsets, excl(start, start))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('R7/Q9 start = 0: 0..0 is not empty and retains [0]', () => {
    expect(retainRange(offsets, excl(0, 0))).toEqual([0]);
  });

  it('R8 (proptest) start..start+16 with start ≥ 30 → [30]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 30, max: MAX }), (start) => {
        expect(retainRange(offsets, excl(start, start + 16))).toEqual([30]);
      }),
      RUNS,
    );
  });

  it('keeps exactly the segments whose offsets [o_i, o_i+1) meet a non-empty range', () => {
    // Semantic restatement of the §11.1 rule: segment i covers [o_i, o_{i+1}) (the last one is open).
    const sortedOffsets = fc
      .uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 8 })
      .map((a) => a.sort((x, y) => x - y));
    fc.assert(
      fc.property(
        sortedOffsets,
        fc.integer({ min: 0, max: 220 }),
        fc.option(fc.integer({ min: 0, max: 220 }), { nil: undefined }),
        (offs, start, end) => {
          const r = rangeFromBounds({ start, end });
          const expected = isEmptyRange(r)
            ? []
            : offs.filter((o, i) => {
                const next = i + 1 < offs.length ? offs[i + 1]! : Infinity;
                return (r.end === null || o <= r.end) && next > r.start;
              });
          expect(retainRange(offs, r)).toEqual(expected);
        },
      ),
      RUNS,
    );
  });
});
