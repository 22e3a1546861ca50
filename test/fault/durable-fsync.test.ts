/**
 * DurableLog under injected faults (FaultyRepo): a failed fsync or write poisons the log, every waiter on
 * a non-durable offset rejects with a typed error, and nothing is reported durable that a crash could lose.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArrayDecoder,
  DurableLog,
  MemoryRepo,
  FsyncFailedError,
  LogWriteFailedError,
  PoisonedError,
  type Repo,
  transactions,
} from '../../src/index.js';
import { FaultyRepo as ExportedFaultyRepo } from '../../src/api/testing.js';
import { FaultyRepo, injectedError } from '../helpers/faulty-repo.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const REC = 16;

function recordFor(i: number): Uint8Array {
  const r = new Uint8Array(REC);
  new DataView(r.buffer).setUint32(0, i, true);
  r.fill((i * 31) & 0xff, 4);
  return r;
}

function recordsIn(repo: Repo): Uint8Array[] {
  return [...transactions(repo, new ArrayDecoder(REC))].map((tx) => tx.txdata);
}

/** Settles `p` into an observable outcome without unhandled rejections. */
function track(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => (t.state = 'resolved'),
    (e) => {
      t.state = 'rejected';
      t.error = e;
    },
  );
  return t;
}

describe('DurableLog fsync failure', () => {
  it('rejects the in-flight and pending waiters with FsyncFailedError, then poisons everything', async () => {
    const repo = new FaultyRepo();
    repo.holdSyncs();
    const log = DurableLog.open(repo);
    const w0 = track(log.waitDurable(log.append(recordFor(0))));
    await turn();
    expect(repo.heldSyncs).toBe(1);
    const w2 = track(log.waitDurable(log.append(recordFor(1)) + log.append(recordFor(2)) - 1));
    repo.releaseSyncs(injectedError('EIO on fdatasync'));
    await turn();
    expect(w0.state).toBe('rejected');
    expect(w0.error).toBeInstanceOf(FsyncFailedError);
    expect(w2.state).toBe('rejected');
    expect(w2.error).toBeInstanceOf(FsyncFailedError);
    expect(log.durableOffset).toBeNull();
    expect(log.poisonedBy).toBeInstanceOf(FsyncFailedError);
    await expect(log.waitDurable(1)).rejects.toBeInstanceOf(PoisonedError);
    expect(() => log.append(recordFor(3))).toThrow(PoisonedError);
    // No further sync is attempted after the failure.
    await turn();
    expect(repo.heldSyncs).toBe(0);
    await expect(log.close()).rejects.toBeInstanceOf(FsyncFailedError);
    expect(log.isClosed).toBe(true);
    expect(recordsIn(repo.crashImage())).toEqual([]);
  });

  it('offsets made durable before the failure stay durable and still resolve', async () => {
    const repo = new FaultyRepo();
    const log = DurableLog.open(repo);
    for (let i = 0; i < 5; i++) log.append(recordFor(i));
    await log.waitDurable(4);
    repo.failNextSync();
    const w5 = track(log.waitDurable(log.append(recordFor(5))));
    await turn();
    await turn();
    expect(w5.state).toBe('rejected');
    expect(w5.error).toBeInstanceOf(FsyncFailedError);
    expect(log.durableOffset).toBe(4);
    await expect(log.waitDurable(3)).resolves.toBeUndefined();
    await expect(log.waitDurable(5)).rejects.toBeInstanceOf(PoisonedError);
    await expect(log.close()).rejects.toBeInstanceOf(FsyncFailedError);
    expect(recordsIn(repo.crashImage())).toEqual([0, 1, 2, 3, 4].map(recordFor));
  });

  it('a failed fsync of the final sync in close rejects close', async () => {
    const repo = new FaultyRepo();
    const log = DurableLog.open(repo);
    const w = track(log.waitDurable(log.append(recordFor(0))));
    repo.failNextSync();
    await expect(log.close()).rejects.toBeInstanceOf(FsyncFailedError);
    expect(w.state).toBe('rejected');
    expect(log.durableOffset).toBeNull();
  });

  it('a failed synchronous fsync at segment rotation poisons the log too', async () => {
    const repo = new FaultyRepo();
    // 10-byte header + 42-byte commits: the third commit starts a new segment, syncing the old one first.
    const log = DurableLog.open(repo, { log: { maxSegmentSize: 100 }, maxCommitRecords: 1 });
    log.append(recordFor(0));
    log.append(recordFor(1));
    await log.waitDurable(1);
    log.append(recordFor(2));
    repo.failNextSync(); // taken by the next sync: the rotation's, inside append
    expect(() => log.append(recordFor(3))).toThrow(FsyncFailedError);
    await expect(log.waitDurable(2)).rejects.toBeInstanceOf(PoisonedError);
    expect(log.durableOffset).toBe(1);
    await expect(log.close()).rejects.toBeInstanceOf(FsyncFailedError);
  });
});

describe('DurableLog write failure', () => {
  it('poisons the log; the sync already in flight still completes what it covers', async () => {
    const repo = new FaultyRepo();
    repo.holdSyncs();
    const log = DurableLog.open(repo, { maxCommitRecords: 1 });
    const w0 = track(log.waitDurable(log.append(recordFor(0))));
    await turn();
    expect(repo.heldSyncs).toBe(1);
    const w1 = track(log.waitDurable(log.append(recordFor(1))));
    repo.failNextAppend();
    expect(() => log.append(recordFor(2))).toThrow(LogWriteFailedError); // writing the full commit of offset 1 fails
    await turn();
    expect(w1.state).toBe('rejected');
    expect(w1.error).toBeInstanceOf(LogWriteFailedError);
    expect((w1.error as Error).cause).toBeInstanceOf(Error);
    expect(() => log.append(recordFor(3))).toThrow(PoisonedError);
    repo.releaseSyncs();
    await turn();
    expect(w0.state).toBe('resolved');
    expect(log.durableOffset).toBe(0);
    await expect(log.waitDurable(1)).rejects.toBeInstanceOf(PoisonedError);
    await expect(log.close()).rejects.toBeInstanceOf(LogWriteFailedError);
    expect(recordsIn(repo.crashImage())).toEqual([recordFor(0)]);
  });
});

type Op =
  | { t: 'append'; k: number }
  | { t: 'turn' }
  | { t: 'release' }
  | { t: 'failHeld' }
  | { t: 'failNextSync' }
  | { t: 'failNextAppend' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 5 }).map((k) => ({ t: 'append' as const, k })) },
  { weight: 4, arbitrary: fc.constant({ t: 'turn' as const }) },
  { weight: 3, arbitrary: fc.constant({ t: 'release' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'failHeld' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'failNextSync' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'failNextAppend' as const }) },
);

describe('DurableLog never reports durable what a crash could lose (property)', () => {
  it('random appends, turns, held/failed syncs and failed writes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        async (ops, maxCommitRecords, hold) => {
          const repo = new FaultyRepo();
          if (hold) repo.holdSyncs();
          // Small segments: rotations (with their synchronous fsync) happen within a run.
          const log = DurableLog.open(repo, { maxCommitRecords, log: { maxSegmentSize: 200 } });
          const waits: Array<{ offset: number; w: ReturnType<typeof track> }> = [];
          let lastDurable = -1;
          const check = (): void => {
            const durable = log.durableOffset ?? -1;
            expect(durable).toBeGreaterThanOrEqual(lastDurable);
            lastDurable = durable;
            for (const { offset, w } of waits) if (w.state === 'resolved') expect(offset).toBeLessThanOrEqual(durable);
            const image = recordsIn(repo.crashImage());
            expect(image.length).toBeGreaterThanOrEqual(durable + 1);
            for (let o = 0; o <= durable; o++) expect(image[o]).toEqual(recordFor(o));
          };
          for (const op of ops) {
            if (op.t === 'append') {
              for (let i = 0; i < op.k; i++) {
                let offset: number;
                try {
                  offset = log.append(recordFor(log.nextOffset));
                } catch (e) {
                  expect(log.poisonedBy).not.toBeNull();
                  expect(e instanceof PoisonedError || e instanceof FsyncFailedError).toBe(true);
                  break;
                }
                waits.push({ offset, w: track(log.waitDurable(offset)) });
              }
            } else if (op.t === 'turn') await turn();
            else if (op.t === 'release') repo.releaseSyncs(null, hold);
            else if (op.t === 'failHeld') repo.releaseSyncs(injectedError(), hold);
            else if (op.t === 'failNextSync') repo.failNextSync();
            else repo.failNextAppend();
            check();
          }
          const closed = log.close().then(
            () => true,
            () => false,
          );
          for (let i = 0; i < 20 && !log.isClosed; i++) {
            repo.releaseSyncs();
            await turn();
          }
          const cleanClose = await closed;
          check();
          for (const { offset, w } of waits) {
            expect(w.state).not.toBe('pending');
            if (w.state === 'rejected') {
              expect(w.error instanceof FsyncFailedError || w.error instanceof PoisonedError).toBe(true);
            } else expect(offset).toBeLessThanOrEqual(log.durableOffset ?? -1);
          }
          // A clean close means every appended record is durable.
          if (cleanClose) expect(log.durableOffset ?? -1).toBe(log.nextOffset - 1);
          else expect(log.poisonedBy).not.toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('DurableLog over the exported FaultyRepo (src/repo/faulty.ts)', () => {
  it('with random EIO on fsync and write, short writes and ENOSPC: what resolved durable survives the worst power cut', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const repo = new ExportedFaultyRepo(new MemoryRepo(), {
        seed,
        probabilities: { eioSync: 0.01, eioWrite: 0.005, shortWrite: 0.005, enospc: 0.005 },
      });
      let log: DurableLog;
      try {
        log = DurableLog.open(repo, { log: { maxSegmentSize: 2048 }, maxCommitRecords: 5 });
      } catch {
        continue; // a fault while opening: nothing was reported durable
      }
      const durable = new Map<number, number>();
      let next = 0;
      const producer = async (): Promise<void> => {
        for (let k = 0; k < 40 && log.poisonedBy === null; k++) {
          const id = next++;
          let offset: number;
          try {
            offset = log.append(recordFor(id));
          } catch (e) {
            expect(e instanceof PoisonedError || e instanceof FsyncFailedError || e instanceof LogWriteFailedError).toBe(true);
            return;
          }
          try {
            await log.waitDurable(offset);
            durable.set(offset, id);
          } catch (e) {
            expect(e instanceof PoisonedError || e instanceof FsyncFailedError || e instanceof LogWriteFailedError).toBe(true);
            return;
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, producer));
      await log.close().catch(() => undefined);
      const faults = repo.injected;
      repo.powerLoss(repo.inner, 'synced');
      const after = new Map<number, Uint8Array>();
      for (const tx of transactions(repo.inner, new ArrayDecoder(REC))) after.set(tx.offset, tx.txdata);
      for (const [offset, id] of durable) {
        expect(after.get(offset), `seed ${seed} (${faults} faults): offset ${offset}`).toEqual(recordFor(id));
      }
    }
  });

  it('an armed EIO on fsync rejects the waiters with FsyncFailedError and poisons the log', async () => {
    const repo = new ExportedFaultyRepo(new MemoryRepo());
    const log = DurableLog.open(repo);
    await log.waitDurable(log.append(recordFor(0)));
    repo.arm('eioSync');
    const offset = log.append(recordFor(1));
    await expect(log.waitDurable(offset)).rejects.toBeInstanceOf(FsyncFailedError);
    expect(() => log.append(recordFor(2))).toThrow(PoisonedError);
    await expect(log.waitDurable(0)).resolves.toBeUndefined();
    await expect(log.close()).rejects.toBeInstanceOf(FsyncFailedError);
    repo.powerLoss(repo.inner, 'synced');
    expect(recordsIn(repo.inner)).toEqual([recordFor(0)]);
  });
});
