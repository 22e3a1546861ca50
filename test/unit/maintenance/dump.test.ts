/** dumpCommits / lastCommits / followDump (clog dump, clog tail): commits with their place on disk. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Commitlog, TraversalError } from '../../../src/index.js';
import { dumpCommits, followDump, lastCommits } from '../../../src/api/ops.js';
import { encodeCommit } from '../../../src/api/codec.js';
import { type CommitPlace, flipBit, record, segPath, tempDirs, writeLog, writeMultiRecordLog } from './log-fixtures.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');
const fresh = tempDirs();

/** The dump line the spec implies for a generated commit. */
function expectedLine(p: CommitPlace): Record<string, number> {
  const records = record(p.minTxOffset, p.len);
  return {
    segment: p.segment,
    byteOffset: p.byteOffset,
    minTxOffset: p.minTxOffset,
    epoch: p.epoch,
    n: 1,
    len: p.len,
    checksum: encodeCommit({ minTxOffset: p.minTxOffset, epoch: p.epoch, n: 1, records }).checksum,
  };
}

describe('dumpCommits', () => {
  it('one entry per commit with segment, byte offset and framing fields', () => {
    const dir = fresh();
    const places = writeLog(dir, { commits: 40, epochs: [[30, 2]] });
    expect([...dumpCommits(dir)]).toEqual(places.map(expectedLine));
  });

  it('--from/--to select the commits holding those offsets (inclusive); --records adds hex', () => {
    const dir = fresh();
    const places = writeLog(dir, { commits: 40 });
    expect([...dumpCommits(dir, { from: 12, to: 14 })]).toEqual(places.slice(12, 15).map(expectedLine));
    const [one] = [...dumpCommits(dir, { from: 7, to: 7, records: true })];
    expect(one).toEqual({ ...expectedLine(places[7]!), records: Buffer.from(record(7, 50)).toString('hex') });

    // Commits of 3 records: offset 4 lies in the commit [3, 6).
    const multi = fresh();
    writeMultiRecordLog(multi);
    expect([...dumpCommits(multi, { from: 4, to: 6 })].map((d) => [d.minTxOffset, d.n, d.byteOffset])).toEqual([
      [3, 3, 10 + 32],
      [6, 3, 10 + 2 * 32],
    ]);
  });

  it('matches the expected commits of the SpacetimeDB fixtures', () => {
    for (const name of ['spacetimedb-v1.2', 'spacetimedb-v2.6']) {
      const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'expected-commits.json'), 'utf8'));
      expect([...dumpCommits(path.join(FIXTURES, name, 'clog'))]).toEqual(expected.commits);
    }
  });

  it('throws the traversal error after the commits before the damage', () => {
    const dir = fresh();
    const places = writeLog(dir, { commits: 10 });
    flipBit(segPath(dir, 0), places[6]!.byteOffset + 40);
    const seen: number[] = [];
    expect(() => {
      for (const d of dumpCommits(dir)) seen.push(d.minTxOffset);
    }).toThrow(TraversalError);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('lastCommits', () => {
  it('the last n commits, across segments, and the offset to follow from', () => {
    const dir = fresh();
    const places = writeLog(dir, { commits: 40 });
    expect(lastCommits(dir, 3)).toEqual({ commits: places.slice(37).map(expectedLine), error: null, nextOffset: 40 });
    expect(lastCommits(dir, 15).commits).toEqual(places.slice(25).map(expectedLine));
    expect(lastCommits(dir, 100).commits).toEqual(places.map(expectedLine));
    expect(lastCommits(dir, 0)).toEqual({ commits: [], error: null, nextOffset: 40 });
  });

  it('an empty log has no commits; a torn newest commit is returned as the error after the others', () => {
    const dir = fresh();
    expect(lastCommits(dir, 5)).toEqual({ commits: [], error: null, nextOffset: 0 });
    const places = writeLog(dir, { commits: 5 });
    fs.truncateSync(segPath(dir, 0), places[4]!.byteOffset + 30);
    const r = lastCommits(dir, 2);
    expect(r.commits).toEqual(places.slice(2, 4).map(expectedLine));
    expect(r.error).toBeInstanceOf(TraversalError);
    expect(r.nextOffset).toBe(4);
  });
});

describe('followDump', () => {
  it('yields the commits from an offset, then those written afterwards', async () => {
    const dir = fresh();
    writeLog(dir, { commits: 3 });
    const abort = new AbortController();
    const got: number[] = [];
    const writer = Commitlog.open(dir, { maxSegmentSize: 1024, offsetIndexIntervalBytes: 256 });
    for await (const d of followDump(dir, 1, { intervalMs: 10, signal: abort.signal })) {
      got.push(d.minTxOffset);
      if (got.length === 2) {
        writer.append(record(3, 50));
        writer.flush();
        writer.append(record(4, 50));
        writer.flush();
      }
      if (got.length === 4) abort.abort();
    }
    writer.close();
    expect(got).toEqual([1, 2, 3, 4]);
  });
});
