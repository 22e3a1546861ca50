/**
 * Fault injection, random workloads (issue 8): a seeded random workload (append, commit, sync,
 * flushAndSync, setEpoch with rotations, resetTo, reset, reopen after close, crash or power loss, reads,
 * compression) runs over `FaultyRepo(MemoryRepo)` for each fault kind, and all kinds at once. After
 * every injected fault it checks what a crash at that moment would leave:
 *  - nothing reported durable (a `sync`/`flushAndSync` that returned) is lost or altered, also after a
 *    simulated power cut (`powerLoss`: unsynced bytes cut at random);
 *  - after a process crash every commit that `commit()` returned for is still there;
 *  - a clean `GenericLog` reopens the repo, traverses it cleanly (SPEC §6, §7.3) and appends contiguously;
 *  - an EIO on fsync poisons the log (FsyncFailedError, then PoisonedError, SPEC §5.7, §12.7);
 *  - missing, short or corrupt index files never change traversal, metadata or resetTo (SPEC §3.7, §12.5).
 * `FAULT_SEED` reproduces a run, `FAULT_RUNS` scales the runs per kind, `FAULT_TRACE=1` prints the steps
 * of a failing run.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CommitlogError,
  FsyncFailedError,
  GenericLog,
  InvalidDataError,
  MemoryRepo,
  type Options,
  PoisonedError,
  type Repo,
  commits,
  commitsFrom,
  committedMeta,
  resetRepoTo,
  type Committed,
} from '../../src/index.js';
import { FAULT_KINDS, type FaultKind, FaultyRepo, seededRandom } from '../../src/api/testing.js';
import { type StoredCommit } from '../../src/api/codec.js';
import { checkAppendContinues, cleanCommits, cloneMemoryRepo, expectTyped, summarise } from '../helpers/reliability.js';

const SEED = Number(process.env.FAULT_SEED ?? 0x5eed);
const RUNS = Number(process.env.FAULT_RUNS ?? 12);
const STEPS = 140;
const injectedTotals: Record<string, number> = {};

afterAll(() => {
  const total = Object.values(injectedTotals).reduce((a, b) => a + b, 0);
  console.log(`fault workloads: ${total} faults injected`, injectedTotals, `${refusals} refusals to open (SPEC §6.2)`);
});

// -----------------------------------------------------------------------------------------------
// Model and checks

interface MCommit {
  start: number;
  n: number;
  epoch: number;
  records: Uint8Array;
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const same = (c: StoredCommit, m: MCommit): boolean =>
  c.minTxOffset === m.start &&
  c.n === m.n &&
  c.epoch === m.epoch &&
  Buffer.from(c.records).equals(Buffer.from(m.records));

function describeCommit(c: StoredCommit | MCommit | undefined): string {
  if (!c) return 'nothing';
  const start = 'start' in c ? c.start : c.minTxOffset;
  return `[${start}+${c.n} e${c.epoch} ${c.records.length}B]`;
}

/** Refusals to open that SPEC §6.2 prescribes, counted over the run. */
let refusals = 0;

/**
 * Opens `repo`. A newest segment whose first commit is complete but corrupt is refused (SPEC §6.2, Q45):
 * only junk growth after a torn first commit makes one here, and such a commit was never synced, so
 * the operator's repair (removing that segment) loses nothing durable. Anything else must open.
 */
function openOrRepair(repo: Repo, options: Partial<Options>, allowRefusal: boolean): GenericLog {
  try {
    return GenericLog.open(repo, options);
  } catch (e) {
    if (!allowRefusal || !(e instanceof InvalidDataError) || !/first commit in the newest segment/.test(e.message))
      throw e;
    refusals++;
    const offsets = repo.existingOffsets();
    repo.removeSegment(offsets[offsets.length - 1]!);
    return openOrRepair(repo, options, allowRefusal);
  }
}

type Exactness = 'all' | 'durable';

/**
 * Reopens `repo` with a clean log and checks it against the model: the durable prefix is there and
 * unchanged; with 'all' every committed commit is there (a process crash loses nothing written);
 * whatever else is there is a prefix of what was written (`extra` may follow: pending records `close`
 * committed, or a commit whose call failed after writing it). Returns what was found.
 */
function checkReopened(
  log: GenericLog,
  model: { commits: MCommit[]; durable: number },
  exact: Exactness,
  where: string,
  extra?: MCommit,
): StoredCommit[] {
  const got = cleanCommits(log, where);
  for (let i = 0; i < model.durable; i++) {
    if (!got[i] || !same(got[i]!, model.commits[i]!)) {
      throw new Error(
        `${where}: durable commit #${i} ${describeCommit(model.commits[i])} lost or altered: found ${describeCommit(got[i])}`,
      );
    }
  }
  const limit = model.commits.length + (extra ? 1 : 0);
  if (got.length > limit) throw new Error(`${where}: ${got.length} commits found, only ${limit} written`);
  for (let i = model.durable; i < got.length; i++) {
    const m = i < model.commits.length ? model.commits[i]! : extra!;
    if (!same(got[i]!, m))
      throw new Error(`${where}: commit #${i} altered: ${describeCommit(got[i])} vs ${describeCommit(m)}`);
  }
  if (exact === 'all' && got.length < model.commits.length) {
    throw new Error(`${where}: only ${got.length} of ${model.commits.length} written commits survive a process crash`);
  }
  const last = got[got.length - 1];
  const end = last ? last.minTxOffset + last.n : 0;
  expect(log.maxCommittedOffset(), where).toBe(last ? end - 1 : null);
  expect(log.epoch, `${where}: epoch after reopen`).toBe(last ? last.epoch : 0);
  return got;
}

/**
 * The image a crash (or a power cut) would leave right now, as a copy: its index files must not change
 * what is read, and a clean log must reopen it. The original is untouched.
 */
function checkImage(
  faulty: FaultyRepo,
  mem: MemoryRepo,
  withIndex: boolean,
  options: Partial<Options>,
  model: Model,
  power: boolean,
  rnd: () => number,
  where: string,
  extra?: MCommit,
): void {
  const image = cloneMemoryRepo(mem, withIndex);
  if (power) faulty.powerLoss(image);
  if (withIndex) checkIndexInvariance(image, rnd, model.end, `${where}: index invariance`);
  const log = openOrRepair(cloneMemoryRepo(image, withIndex), options, faulty.counts.segmentGrow > 0);
  const got = checkReopened(log, model, power ? 'durable' : 'all', where, extra);
  checkAppendContinues(log, got, where);
  log.close();
}

/** Index files may be missing, short or corrupt: reading with them must give what reading without gives. */
function checkIndexInvariance(mem: MemoryRepo, rnd: () => number, logEnd: number, where: string): void {
  const withIdx = () => cloneMemoryRepo(mem, true);
  const without = () => cloneMemoryRepo(mem, true, false);
  const plainResults = (it: Iterable<{ ok: boolean }>) => JSON.stringify([...it].map(summarise));
  expect(plainResults(commits(withIdx(), { errors: 'yield' })), where).toBe(
    plainResults(commits(without(), { errors: 'yield' })),
  );
  const end = logEnd + 2;
  for (let k = 0; k < 3; k++) {
    const o = Math.floor(rnd() * end);
    expect(plainResults(commitsFrom(withIdx(), o, { errors: 'yield' })), `${where} commitsFrom(${o})`).toBe(
      plainResults(commitsFrom(without(), o, { errors: 'yield' })),
    );
  }
  const meta = (r: MemoryRepo) => {
    try {
      const m = committedMeta(r);
      return m && { txRange: m.txRange, sizeInBytes: m.sizeInBytes };
    } catch (e) {
      return `${(e as CommitlogError).code}`;
    }
  };
  expect(meta(withIdx()), `${where} committedMeta`).toEqual(meta(without()));
  const o = Math.floor(rnd() * end);
  const a = withIdx();
  const b = without();
  const reset = (r: MemoryRepo) => {
    try {
      resetRepoTo(r, o);
      return [...r.segments].map(([s, buf]) => `${s}:${Buffer.from(buf.bytes()).toString('hex')}`).join('|');
    } catch (e) {
      return `${(e as CommitlogError).code}`;
    }
  };
  expect(reset(a), `${where} resetTo(${o})`).toBe(reset(b));
}

// -----------------------------------------------------------------------------------------------
// The workload

class Model {
  commits: MCommit[] = [];
  /** The first `durable` commits were covered by a sync that returned. */
  durable = 0;
  pending: Uint8Array[] = [];
  get end(): number {
    const l = this.commits[this.commits.length - 1];
    return l ? l.start + l.n : 0;
  }
  committed(c: Committed | null, epoch: number, where: string): void {
    if (c === null) {
      if (this.pending.length > 0)
        throw new Error(`${where}: commit returned null with ${this.pending.length} records pending`);
      return;
    }
    expect(c.txRange, where).toEqual({ start: this.end, end: this.end + this.pending.length });
    this.commits.push({ start: c.txRange.start, n: this.pending.length, epoch, records: concat(this.pending) });
    this.pending = [];
  }
  /** A sync returned: every committed commit is durable (pending records are not). */
  synced(): void {
    this.durable = this.commits.length;
  }
  /** After `resetTo(o)` returned (o = -1 for `reset()`): whole commits up to the one holding o are kept. */
  resetTo(o: number): void {
    this.commits = this.commits.filter((c) => c.start <= o);
    this.durable = Math.min(this.durable, this.commits.length);
    this.pending = [];
  }
  /** Adopts what a reopened log holds (already checked against the model). */
  adopt(got: StoredCommit[], extra?: MCommit): void {
    if (extra && got.length === this.commits.length + 1) this.commits.push(extra);
    this.commits.length = got.length;
    this.durable = Math.min(this.durable, got.length);
    this.pending = [];
  }
}

const PROBABILITY: Record<FaultKind, number> = {
  shortWrite: 0.02,
  enospc: 0.02,
  eioWrite: 0.02,
  eioSync: 0.01,
  indexMissing: 0.1,
  indexShort: 0.1,
  indexCorrupt: 0.15,
  segmentVanish: 0.03,
  segmentGrow: 0.05,
};

function runWorkload(kinds: readonly FaultKind[], seed: number, steps = STEPS): void {
  const rnd = seededRandom(seed ^ 0x9e3779b9);
  const int = (n: number) => Math.floor(rnd() * n);
  const withIndex = kinds.some((k) => k.startsWith('index')) || rnd() < 0.5;
  const mem = new MemoryRepo({ offsetIndex: withIndex });
  const faulty = new FaultyRepo(mem, {
    seed,
    probabilities: Object.fromEntries(kinds.map((k) => [k, PROBABILITY[k]])),
  });
  const options: Partial<Options> = {
    maxSegmentSize: 150 + int(1500),
    maxRecordsInCommit: 1 + int(8),
    offsetIndexIntervalBytes: 16 + int(200),
    offsetIndexRequireSegmentFsync: rnd() < 0.5,
  };
  const model = new Model();
  const ctx = (step: number, what: string) => `seed ${seed} [${kinds.join(',')}] step ${step} ${what}`;

  /** Opens through the faulty repo, retrying typed failures; faults off after many attempts. */
  const open = (where: string): GenericLog => {
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt < 8) return GenericLog.open(faulty, options);
        return faulty.withoutFaults(() => openOrRepair(faulty, options, faulty.counts.segmentGrow > 0));
      } catch (e) {
        expectTyped(e, where);
        if (attempt >= 8) throw new Error(`${where}: open fails without faults: ${e.message}`);
      }
    }
  };
  /** Reopens after the log was closed, abandoned, consumed or the power went; reconciles the model. */
  const reopen = (mode: 'close' | 'abandon' | 'power', where: string, resetBound?: number): GenericLog => {
    let extra: MCommit | undefined = uncertain;
    uncertain = undefined;
    if (mode === 'close' && log && model.pending.length > 0) {
      extra = { start: model.end, n: model.pending.length, epoch: epoch, records: concat(model.pending) };
    }
    if (mode === 'close') log?.close();
    if (mode === 'power') faulty.powerLoss();
    const next = open(where);
    const got = faulty.withoutFaults(() => {
      if (resetBound === undefined)
        return checkReopened(next, model, mode === 'power' ? 'durable' : 'all', where, extra);
      extra = undefined;
      // A failed resetTo(o): everything up to o is kept, a prefix of the rest may remain.
      const kept = model.commits.filter((c) => c.start <= resetBound).length;
      const found = checkReopened(
        next,
        { commits: model.commits, durable: Math.min(model.durable, kept) },
        'durable',
        where,
      );
      if (found.length < kept) throw new Error(`${where}: failed resetTo(${resetBound}) lost commits at or below it`);
      return found;
    });
    model.adopt(got, extra);
    epoch = next.epoch;
    return next;
  };

  let log: GenericLog | null = open('initial open');
  let epoch = 0;
  /** A commit that may or may not have been written (its call failed after writing it). */
  let uncertain: MCommit | undefined;
  // What happened, for the failure message: steps, faults, segments.
  const trace: string[] = [];
  let seen = 0;
  const note = (what: string, outcome: string) => {
    const faults = faulty.history.slice(Math.max(0, faulty.history.length - (faulty.injected - seen)));
    seen = faulty.injected;
    const segs = [...mem.segments].map(([o, b]) => `${o}:${b.length}`).join(' ');
    trace.push(
      `${what} -> ${outcome}${faults.map((f) => ` !${f.kind}@${f.op}(${f.offset})`).join('')} | ${segs} | durable ${model.durable}/${model.commits.length}`,
    );
  };
  try {
    for (let step = 0; step < steps; step++) {
      const before = faulty.injected;
      const roll = int(100);
      let where = '';
      try {
        if (log === null) {
          where = ctx(step, 'reopen');
          faulty.crash();
          log = reopen('abandon', where);
        } else if (roll < 40) {
          where = ctx(step, 'append');
          const record = Uint8Array.from({ length: int(60) }, () => int(256));
          if (!log.append(record)) {
            model.committed(log.commit(), epoch, where);
            expect(log.append(record)).toBe(true);
          }
          model.pending.push(record);
        } else if (roll < 58) {
          where = ctx(step, 'commit');
          model.committed(log.commit(), epoch, where);
        } else if (roll < 66) {
          where = ctx(step, 'sync');
          log.sync();
          model.synced();
        } else if (roll < 74) {
          where = ctx(step, 'flushAndSync');
          // If the fsync fails after the commit was written, the commit is there but was never reported.
          uncertain =
            model.pending.length > 0
              ? { start: model.end, n: model.pending.length, epoch, records: concat(model.pending) }
              : undefined;
          model.committed(log.flushAndSync(), epoch, where);
          uncertain = undefined;
          model.synced();
        } else if (roll < 77) {
          where = ctx(step, 'setEpoch');
          const e = epoch + int(3);
          const c = log.setEpoch(e);
          if (e !== epoch) model.committed(c, epoch, where);
          else expect(c, `${where}: same epoch is a no-op`).toBeNull();
          epoch = e;
        } else if (roll < 81) {
          const o = int(model.end + 2) - 1;
          where = ctx(step, `resetTo(${o})`);
          const l: GenericLog = log;
          log = null;
          let reset: GenericLog | null = null;
          try {
            reset = o < 0 ? l.reset() : l.resetTo(o);
          } catch (e) {
            expectTyped(e, where);
            faulty.crash();
            log = reopen('abandon', `${where} (failed)`, o);
          }
          if (reset) {
            log = reset;
            model.resetTo(o);
            faulty.withoutFaults(() => checkReopened(reset!, model, 'all', where));
            epoch = reset.epoch;
          }
        } else if (roll < 89) {
          where = ctx(step, 'read');
          const start = roll < 85 ? 0 : int(model.end + 1);
          const items = [...log.commitsFrom(start, { errors: 'yield' })];
          const faultDuring = faulty.injected !== before;
          const expected = model.commits.filter((c) => c.start + c.n - 1 >= start);
          let i = 0;
          for (const r of items) {
            if (!r.ok) {
              // Only a fault during this read, or a deferred error (a torn tail, SPEC §7.3) after
              // every commit, may interrupt it.
              const trailing = r === items[items.length - 1] && i === expected.length;
              if (!faultDuring && !trailing) throw new Error(`${where}: live traversal error ${r.error.message}`);
              break;
            }
            if (!expected[i] || !same(r.value, expected[i]!)) {
              throw new Error(
                `${where}: live traversal yields ${describeCommit(r.value)}, expected ${describeCommit(expected[i])}`,
              );
            }
            i++;
          }
          if (!faultDuring && i !== expected.length)
            throw new Error(`${where}: live traversal yields ${i} of ${expected.length} commits`);
        } else if (roll < 91) {
          where = ctx(step, 'compress');
          log.compressSegments(log.tail.slice(0, int(log.tail.length + 1)));
        } else {
          const mode = roll < 95 ? 'close' : roll < 98 ? 'abandon' : 'power';
          where = ctx(step, `reopen (${mode})`);
          if (mode === 'abandon') faulty.crash();
          log = reopen(mode, where);
        }
      } catch (e) {
        if (!(e instanceof CommitlogError)) throw e;
        if (e instanceof FsyncFailedError && log) {
          // SPEC §5.7: poisoned; nothing later is ever reported durable.
          const l = log;
          expect(() => l.sync(), where).toThrow(PoisonedError);
          expect(() => l.flushAndSync(), where).toThrow(PoisonedError);
          expect(() => l.append(new Uint8Array(1)), where).toThrow(PoisonedError);
          expect(() => l.commit(), where).toThrow(PoisonedError);
          expect(() => l.setEpoch(epoch + 1), where).toThrow(PoisonedError);
          l.close();
          log = null;
        } else if (log && int(2) === 0) {
          // Give up on this instance (as a crashing process would); a later step reopens.
          faulty.crash();
          log = null;
        }
        // Otherwise the caller retries with the same instance: the pending commit was kept (SPEC §5.3).
        note(where, `${e.code} ${log ? 'kept' : 'dropped'}`);
      }
      if (trace.length === 0 || !trace[trace.length - 1]!.startsWith(where)) note(where, 'ok');
      if (faulty.injected !== before) {
        faulty.withoutFaults(() => {
          for (const power of [false, true]) {
            const what = power ? 'power-loss image' : 'crash image';
            checkImage(faulty, mem, withIndex, options, model, power, rnd, `${where}: ${what} after fault`, uncertain);
          }
        });
      }
    }
  } catch (e) {
    if (process.env.FAULT_TRACE) console.log(trace.join('\n'));
    throw e;
  }
  // Finally: a clean log on the inner repo, no faults at all. `close` may commit what is pending (Q6).
  const extra =
    log && model.pending.length > 0
      ? { start: model.end, n: model.pending.length, epoch, records: concat(model.pending) }
      : uncertain;
  faulty.withoutFaults(() => log?.close());
  for (const k of kinds) injectedTotals[k] = (injectedTotals[k] ?? 0) + faulty.counts[k];
  const clean = openOrRepair(mem, options, faulty.counts.segmentGrow > 0);
  const got = checkReopened(clean, model, 'all', `seed ${seed} final reopen`, extra);
  checkAppendContinues(clean, got, `seed ${seed} final reopen`);
  clean.close();
}

const seeds = fc.integer({ min: 1, max: 0x7fffffff });

describe('fault injection: random workloads over FaultyRepo(MemoryRepo)', () => {
  for (const kind of FAULT_KINDS) {
    it(`${kind}: nothing durable lost, crash images reopen cleanly`, () => {
      fc.assert(
        fc.property(seeds, (seed) => runWorkload([kind], seed)),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    });
  }
  it('all kinds at once', () => {
    fc.assert(
      fc.property(seeds, (seed) => runWorkload(FAULT_KINDS, seed)),
      { seed: SEED + 1, numRuns: RUNS, endOnFailure: true },
    );
  });
});
