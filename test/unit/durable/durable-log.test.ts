/** DurableLog: group commit semantics, ordering, waitDurable, commit bounds, sync interval, close. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ArrayDecoder,
  ClosedError,
  DurableLog,
  FsRepo,
  GenericLog,
  InvalidInputError,
  LockedError,
  type Repo,
  commits,
  transactions,
} from '../../../src/index.js';
import { FaultyRepo } from '../../helpers/faulty-repo.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Deterministic record `i` of `len` bytes, different for every i. */
function recordFor(i: number, len = 16): Uint8Array {
  const r = new Uint8Array(len);
  let x = (i * 2654435761 + 1) >>> 0 || 1;
  for (let k = 0; k < len; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    r[k] = x & 0xff;
  }
  return r;
}

function commitSizes(repo: Repo): number[] {
  return [...commits(repo)].map((c) => c.n);
}

function recordsIn(repo: Repo, len = 16): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const tx of transactions(repo, new ArrayDecoder(len))) {
    expect(tx.offset).toBe(out.length);
    out.push(tx.txdata);
  }
  return out;
}

const dirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('DurableLog append and waitDurable', () => {
  it('append returns consecutive offsets at once, before anything is durable', async () => {
    const repo = new FaultyRepo();
    repo.holdSyncs();
    const log = DurableLog.open(repo);
    expect(log.durableOffset).toBeNull();
    expect([0, 1, 2, 3, 4].map((i) => log.append(recordFor(i)))).toEqual([0, 1, 2, 3, 4]);
    expect(log.nextOffset).toBe(5);
    expect(log.durableOffset).toBeNull();
    await turn();
    expect(repo.heldSyncs).toBe(1);
    expect(log.durableOffset).toBeNull();
    repo.releaseSyncs();
    await log.waitDurable(4);
    expect(log.durableOffset).toBe(4);
    await log.close();
  });

  it('records appended in one turn share one commit and one fsync', async () => {
    const repo = new FaultyRepo();
    const log = DurableLog.open(repo);
    const waits = [];
    for (let i = 0; i < 100; i++) waits.push(log.waitDurable(log.append(recordFor(i))));
    await Promise.all(waits);
    expect(log.stats).toEqual({ commits: 1, syncs: 1 });
    expect(commitSizes(repo)).toEqual([100]);
    const got = recordsIn(repo);
    for (let i = 0; i < 100; i++) expect(got[i]).toEqual(recordFor(i));
    await log.close();
  });

  it('records appended while a sync is in flight go into the next commit and share its fsync', async () => {
    const repo = new FaultyRepo();
    repo.holdSyncs();
    const log = DurableLog.open(repo);
    const first = log.waitDurable(log.append(recordFor(0)));
    await turn();
    expect(repo.heldSyncs).toBe(1);
    const later = [1, 2, 3].map((i) => log.waitDurable(log.append(recordFor(i))));
    await turn();
    await turn();
    expect(repo.heldSyncs).toBe(1); // one sync at a time
    let laterDone = false;
    void Promise.all(later).then(() => (laterDone = true));
    repo.releaseSyncs(null, true);
    await first;
    // The first sync covered offset 0 only: 1..3 were written after it started.
    expect(log.durableOffset).toBe(0);
    await turn();
    expect(laterDone).toBe(false);
    expect(repo.heldSyncs).toBe(1);
    repo.releaseSyncs();
    await Promise.all(later);
    expect(log.durableOffset).toBe(3);
    expect(log.stats).toEqual({ commits: 2, syncs: 2 });
    expect(commitSizes(repo)).toEqual([1, 3]);
    await log.close();
  });

  it('many producers: every record lands once, in append order, and resolves only once durable', async () => {
    const repo = new FaultyRepo();
    const log = DurableLog.open(repo);
    const appended: number[] = [];
    const violations: string[] = [];
    const producer = async (p: number): Promise<void> => {
      for (let k = 0; k < 20; k++) {
        const offset = log.append(recordFor(p * 1000 + k));
        appended[offset] = p * 1000 + k;
        await log.waitDurable(offset);
        // Resolved: the offset must be covered by durableOffset and by synced bytes (crash image).
        if ((log.durableOffset ?? -1) < offset) violations.push(`offset ${offset} resolved before durable`);
        if (k % 5 === 0) await sleep(Math.random() * 3);
      }
    };
    await Promise.all(Array.from({ length: 25 }, (_, p) => producer(p)));
    expect(violations).toEqual([]);
    expect(log.durableOffset).toBe(499);
    const image = recordsIn(repo.crashImage());
    expect(image.length).toBe(500);
    for (let o = 0; o < 500; o++) expect(image[o]).toEqual(recordFor(appended[o]!));
    // Group commit: far fewer syncs than records.
    expect(log.stats.syncs).toBeLessThan(500);
    await log.close();
  });

  it('waitDurable resolves in offset order', async () => {
    const repo = new FaultyRepo();
    repo.holdSyncs();
    const log = DurableLog.open(repo);
    const order: number[] = [];
    const all: Promise<void>[] = [];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 5; i++) {
        const o = log.append(recordFor(o0(round, i)));
        all.push(log.waitDurable(o).then(() => void order.push(o)));
      }
      await turn();
      repo.releaseSyncs(null, true);
      await turn();
    }
    repo.releaseSyncs();
    await Promise.all(all);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.length).toBe(20);
    await log.close();
    function o0(round: number, i: number): number {
      return round * 5 + i;
    }
  });

  it('waitDurable of a durable offset resolves at once; of an offset not appended, or not an offset, rejects', async () => {
    const repo = new FaultyRepo();
    const log = DurableLog.open(repo);
    const o = log.append(recordFor(0));
    await log.waitDurable(o);
    await expect(log.waitDurable(0)).resolves.toBeUndefined();
    await expect(log.waitDurable(1)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(log.waitDurable(-1)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(log.waitDurable(0.5)).rejects.toBeInstanceOf(InvalidInputError);
    await log.close();
  });

  it('open makes what an earlier writer left unsynced durable before reporting it', async () => {
    const repo = new FaultyRepo();
    const raw = GenericLog.open(repo);
    for (let i = 0; i < 3; i++) raw.append(recordFor(i));
    raw.commit();
    raw.close();
    const synced = repo.syncsCompleted;
    const log = DurableLog.open(repo);
    expect(repo.syncsCompleted).toBe(synced + 1);
    expect(log.durableOffset).toBe(2);
    expect(log.append(recordFor(3))).toBe(3);
    await log.close();
    expect(recordsIn(repo.crashImage()).length).toBe(4);
  });
});

describe('DurableLog bounds', () => {
  it('maxCommitRecords bounds every commit; commits written during one sync share the next fsync', async () => {
    const repo = new FaultyRepo();
    repo.holdSyncs();
    const log = DurableLog.open(repo, { maxCommitRecords: 10 });
    log.append(recordFor(0));
    await turn();
    expect(repo.heldSyncs).toBe(1);
    for (let i = 1; i <= 35; i++) log.append(recordFor(i));
    // Three full commits were written (not synced) while the first sync was in flight.
    expect(log.stats.commits).toBe(4);
    expect(repo.heldSyncs).toBe(1);
    repo.releaseSyncs();
    await log.waitDurable(35);
    expect(commitSizes(repo)).toEqual([1, 10, 10, 10, 5]);
    expect(log.stats.syncs).toBe(2);
    await log.close();
  });

  it('maxCommitBytes bounds the commit buffer; a larger record makes a commit of its own', async () => {
    const repo = new FaultyRepo();
    const log = DurableLog.open(repo, { maxCommitBytes: 250 });
    for (let i = 0; i < 5; i++) log.append(recordFor(i, 100));
    expect(log.log.headWriter.pending.recordsLen).toBeLessThanOrEqual(250);
    await log.waitDurable(4);
    expect(commitSizes(repo)).toEqual([2, 2, 1]);
    log.append(new Uint8Array(1000));
    await log.waitDurable(5);
    expect([...commits(repo)].map((c) => c.records.length)).toEqual([200, 200, 100, 1000]);
    await log.close();
  });

  it('with an encoder, a commit is written once it reaches maxCommitBytes', async () => {
    const repo = new FaultyRepo();
    const encoder = { encodeRecord: (n: number, out: { write(b: Uint8Array): void }) => out.write(recordFor(n, 100)) };
    const log = DurableLog.open<number>(repo, { maxCommitBytes: 250, encoder });
    for (let i = 0; i < 7; i++) log.append(i);
    await log.waitDurable(6);
    expect(commitSizes(repo)).toEqual([3, 3, 1]);
    const got = recordsIn(repo, 100);
    for (let i = 0; i < 7; i++) expect(got[i]).toEqual(recordFor(i, 100));
    await log.close();
  });

  it('memory stays bounded while a sync is held: the pending buffer never passes maxCommitBytes', async () => {
    const repo = new FaultyRepo();
    repo.holdSyncs();
    const log = DurableLog.open(repo, { maxCommitBytes: 4096 });
    let maxPending = 0;
    for (let i = 0; i < 5000; i++) {
      log.append(recordFor(i, 200));
      maxPending = Math.max(maxPending, log.log.headWriter.pending.recordsLen);
      if (i === 0) await turn();
    }
    expect(maxPending).toBeLessThanOrEqual(4096);
    expect(repo.heldSyncs).toBe(1);
    repo.releaseSyncs();
    await log.waitDurable(4999);
    expect(log.stats.syncs).toBe(2);
    for (const c of commits(repo)) expect(c.records.length).toBeLessThanOrEqual(4096);
    await log.close();
  });

  it('syncIntervalMs: records within the interval share one sync, which starts within the interval', async () => {
    const repo = new FaultyRepo();
    repo.holdSyncs();
    const log = DurableLog.open(repo, { syncIntervalMs: 200 });
    const t0 = performance.now();
    log.append(recordFor(0));
    await sleep(10);
    log.append(recordFor(1));
    await sleep(10);
    log.append(recordFor(2));
    // Far inside the interval (unless this machine stalled for 150 ms): no sync yet.
    if (performance.now() - t0 < 150) expect(repo.heldSyncs).toBe(0);
    while (repo.heldSyncs === 0) await sleep(2);
    const started = performance.now() - t0;
    expect(started).toBeGreaterThanOrEqual(195);
    expect(started).toBeLessThan(2000);
    repo.releaseSyncs();
    await log.waitDurable(2);
    expect(commitSizes(repo)).toEqual([3]);
    expect(log.stats.syncs).toBe(1);
    await log.close();
  });

  it('rejects options out of range', () => {
    const repo = new FaultyRepo();
    expect(() => DurableLog.open(repo, { maxCommitRecords: 0 })).toThrow(InvalidInputError);
    expect(() => DurableLog.open(repo, { maxCommitRecords: 65536 })).toThrow(InvalidInputError);
    expect(() => DurableLog.open(repo, { maxCommitBytes: 0 })).toThrow(InvalidInputError);
    expect(() => DurableLog.open(repo, { syncIntervalMs: -1 })).toThrow(InvalidInputError);
    expect(() => DurableLog.open(repo, { syncIntervalMs: 1.5 })).toThrow(InvalidInputError);
    expect(() => DurableLog.open(tmpDir(), { preallocateBytes: -1 })).toThrow(InvalidInputError);
  });
});

describe('DurableLog close and directories', () => {
  it('close writes and syncs what is pending, resolves every waiter, then refuses appends', async () => {
    const repo = new FaultyRepo();
    const log = DurableLog.open(repo);
    const waits = [];
    for (let i = 0; i < 10; i++) waits.push(log.waitDurable(log.append(recordFor(i))));
    const closed = log.close();
    expect(() => log.append(recordFor(10))).toThrow(ClosedError);
    await closed;
    await Promise.all(waits);
    expect(log.isClosed).toBe(true);
    expect(log.durableOffset).toBe(9);
    expect(log.close()).toBe(closed);
    expect(recordsIn(repo.crashImage()).length).toBe(10);
  });

  it('close waits for the sync in flight and then syncs what came after it', async () => {
    const repo = new FaultyRepo();
    repo.holdSyncs();
    const log = DurableLog.open(repo, { maxCommitRecords: 2 });
    log.append(recordFor(0));
    await turn();
    for (let i = 1; i < 6; i++) log.append(recordFor(i));
    const closed = log.close();
    repo.releaseSyncs();
    await closed;
    expect(log.durableOffset).toBe(5);
    expect(recordsIn(repo.crashImage()).length).toBe(6);
  });

  it('on disk: exact bytes, offsets resume after reopen, and the directory lock is held until close', async () => {
    const dir = tmpDir();
    const log = DurableLog.open(dir, { log: { maxSegmentSize: 1024 }, maxCommitRecords: 3 });
    expect(() => DurableLog.open(dir)).toThrow(LockedError);
    for (let i = 0; i < 40; i++) {
      log.append(recordFor(i, 100));
      if (i % 7 === 0) await turn();
    }
    await log.waitDurable(39);
    await log.close();
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.stdb.log')).length).toBeGreaterThan(2);
    const again = DurableLog.open(dir, { log: { maxSegmentSize: 1024 } });
    expect(again.durableOffset).toBe(39);
    expect(again.append(recordFor(40, 100))).toBe(40);
    await again.close();
    const got = recordsIn(new FsRepo(dir), 100);
    expect(got.length).toBe(41);
    for (let i = 0; i < 41; i++) expect(got[i]).toEqual(recordFor(i, 100));
  });

  it('preallocates 1 MiB ahead of the head by default while open, none with preallocateBytes 0, and leaves identical files', async () => {
    const segmentSizes = (dir: string): number[] =>
      fs.readdirSync(dir).filter((f) => f.endsWith('.stdb.log')).sort().map((f) => fs.statSync(path.join(dir, f)).size);
    const run = async (dir: string, preallocateBytes?: number): Promise<number[]> => {
      const log = DurableLog.open(dir, { preallocateBytes });
      for (let i = 0; i < 50; i++) await log.waitDurable(log.append(recordFor(i, 100)));
      const whileOpen = segmentSizes(dir);
      await log.close();
      return whileOpen;
    };
    const pre = tmpDir();
    const plain = tmpDir();
    const logical = 10 + 50 * (26 + 100);
    expect(await run(pre)).toEqual([10 + 1024 * 1024]); // zero-filled at open; 6 KB of commits went into it
    expect(await run(plain, 0)).toEqual([logical]);
    expect(segmentSizes(pre)).toEqual([logical]);
    const bytes = (dir: string): Buffer => fs.readFileSync(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.stdb.log'))!));
    expect(bytes(pre).equals(bytes(plain))).toBe(true);
  });
});
