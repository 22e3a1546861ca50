// The archive manifest codec and the retention plan: pure, no server.
import { describe, expect, it } from 'vitest';
import { decodeManifest, encodeManifest, planRetention, DAY_MS, type Manifest } from '../../../src/api/archive.js';

function manifest(): Manifest {
  return {
    version: 2,
    generation: 3,
    segments: [
      {
        offset: 0,
        size: 500,
        parts: [],
        archivedAt: 1000,
        zstd: { key: 'segments/00000000000000000000/zstd', bytes: 200, crc32c: 7, keepCompressed: false, commits: 5, minTx: 0, maxTx: 4 },
      },
      { offset: 5, size: 300, parts: [{ key: 'p', start: 0, end: 300, crc32c: 9, commits: 3, minTx: 5, maxTx: 7 }], archivedAt: 2000 },
    ],
  };
}

function reencoded(mutate: (o: any) => void): Uint8Array {
  const o = JSON.parse(new TextDecoder().decode(encodeManifest(manifest())));
  mutate(o);
  return new TextEncoder().encode(JSON.stringify(o));
}

describe('archive manifest', () => {
  it('round-trips zstd segments and archivedAt', () => {
    expect(decodeManifest(encodeManifest(manifest()))).toEqual(manifest());
  });

  it.each([
    ['a negative archivedAt', (o: any) => (o.segments[0].archivedAt = -1), /archivedAt/],
    ['a fractional archivedAt', (o: any) => (o.segments[1].archivedAt = 1.5), /archivedAt/],
    ['a string archivedAt', (o: any) => (o.segments[1].archivedAt = '2026'), /archivedAt/],
    ['zstd and parts at once', (o: any) => o.segments[0].parts.push(o.segments[1].parts[0]), /both parts and a zstd/],
    ['a zstd object starting at the wrong tx', (o: any) => (o.segments[0].zstd.minTx = 1), /wrong offsets/],
    ['a zstd object without commits', (o: any) => (o.segments[0].zstd.commits = 0), /no commits/],
    ['a zstd keepCompressed that is not a boolean', (o: any) => (o.segments[0].zstd.keepCompressed = 1), /zstd malformed/],
    ['repeated segments', (o: any) => (o.segments[1].offset = 0), /out of order or repeated/],
    ['parts not summing to the size', (o: any) => (o.segments[1].size = 301), /sum to 300/],
  ])('refuses %s', (_name, mutate, message) => {
    expect(() => decodeManifest(reencoded(mutate))).toThrow(message);
  });

  it('accepts a segment without archivedAt (manifests written before it)', () => {
    const m = decodeManifest(reencoded((o) => delete o.segments[0].archivedAt));
    expect(m.segments[0]!.archivedAt).toBeUndefined();
  });
});

describe('planRetention', () => {
  const seg = (offset: number, archivedAt?: number) => ({ offset, size: 10, parts: [{ key: `k${offset}`, start: 0, end: 10, crc32c: 0, commits: 0, minTx: -1, maxTx: -1 }], ...(archivedAt !== undefined ? { archivedAt } : {}) });
  const m = (...segments: ReturnType<typeof seg>[]): Manifest => ({ version: 2, generation: 1, segments });

  it('drops the oldest segments archived before the cutoff, never the newest', () => {
    const now = 10 * DAY_MS;
    expect(planRetention(m(seg(0, 1), seg(10, 2 * DAY_MS), seg(20, 8 * DAY_MS), seg(30, 9 * DAY_MS)), 3, now).drop.map((s) => s.offset)).toEqual([0, 10]);
    expect(planRetention(m(seg(0, 1), seg(10, 2)), 0, now).drop.map((s) => s.offset)).toEqual([0]);
    expect(planRetention(m(seg(0, 1)), 0, now).drop).toEqual([]);
  });

  it('stops at a segment inside the window or without archivedAt, so the archive keeps no holes', () => {
    const now = 10 * DAY_MS;
    expect(planRetention(m(seg(0, 1), seg(10, 9 * DAY_MS), seg(20, 1), seg(30, 1)), 3, now).drop.map((s) => s.offset)).toEqual([0]);
    expect(planRetention(m(seg(0), seg(10, 1), seg(20, 1)), 3, now).drop).toEqual([]);
  });

  it('refuses a negative or non-finite number of days', () => {
    expect(() => planRetention(m(seg(0, 1)), -1, 0)).toThrow(/retainDays/);
    expect(() => planRetention(m(seg(0, 1)), Number.NaN, 0)).toThrow(/retainDays/);
  });
});
