/**
 * Crash loop (issue 8): a writer process (crash-writer.mjs, over the built library) does seeded random
 * work on a real directory — appends, flush+sync, rotations with index writes (small segments), resetTo
 * and reset, compression of sealed segments, StreamWriter appends — and is SIGKILLed at seeded random
 * moments: while opening (repairing), at a random time, or right after a random reported event. After
 * each kill the directory is reopened and checked: every offset the writer reported durable is there
 * with its exact bytes (unless a resetTo it reported, or one it was killed in, removed it), the log
 * traverses cleanly, and appending continues contiguously (SPEC §5.7, §6, §7.3, §8.2, §9, §11.3).
 *
 * `CRASH_KILLS` (default 200), `CRASH_SEED`, `CRASH_LANES` (parallel directories, default 2), `CRASH_KEEP=1`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FsRepo, GenericLog, type Options } from '../../src/index.js';
import { seededRandom } from '../../src/api/testing.js';
import { cleanCommits } from '../helpers/reliability.js';

const WRITER = fileURLToPath(new URL('./crash-writer.mjs', import.meta.url));
const KILLS = Number(process.env.CRASH_KILLS ?? 200);
const SEED = Number(process.env.CRASH_SEED ?? 0xc4a5);
const LANES = Math.max(1, Number(process.env.CRASH_LANES ?? 2));
/** `CRASH_KEEP=1` keeps the directory of a failed lane for inspection. */
const KEEP = process.env.CRASH_KEEP === '1';

const hashOf = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex').slice(0, 16);

/** A writer process that has loaded the library and waits for its orders on stdin. */
interface Writer {
  child: ChildProcess;
  onLine: (line: string) => void;
  stderr: string;
  /** Resolves once the process is gone and its stdout is drained. */
  done: Promise<NodeJS.Signals | number | null>;
}

function startWriter(): Writer {
  const child = spawn(process.execPath, [WRITER], { stdio: ['pipe', 'pipe', 'pipe'] });
  const w: Writer = { child, onLine: () => undefined, stderr: '', done: Promise.resolve(null) };
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      w.onLine(line); // a line is a fact only once it is complete
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (w.stderr += d));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  const drained = new Promise<void>((resolve) => child.stdout!.on('close', () => resolve()));
  w.done = Promise.all([exited, drained]).then(([r]) => r);
  return w;
}

/** What the parent knows about the directory of one lane. */
interface LaneState {
  /** Offset → hash of every transaction reported durable (and not reported removed since). */
  durable: Map<number, string>;
  /** A resetTo the writer started but was not seen to finish: offsets above it may be gone. */
  pendingReset: number | null;
}

interface Stats {
  kills: number;
  duringOpen: number;
  duringReset: number;
  duringCompress: number;
  duringStream: number;
  durableChecked: number;
  bytesChecked: number;
  maxLogSize: number;
}

/** Reopens the directory after a kill and checks it; appends one durable record. */
function verify(dir: string, state: LaneState, options: Partial<Options>, stats: Stats, where: string): void {
  const log = GenericLog.open(new FsRepo(dir), options);
  try {
    const hashes: string[] = [];
    let bytes = 0;
    for (const c of cleanCommits(log, where)) {
      let p = 0;
      for (let i = 0; i < c.n; i++) {
        const len = c.records[p]! | (c.records[p + 1]! << 8);
        hashes.push(hashOf(c.records.subarray(p, p + 2 + len)));
        p += 2 + len;
      }
      if (p !== c.records.length)
        throw new Error(`${where}: commit ${c.minTxOffset} holds ${c.records.length} bytes, its records ${p}`);
      bytes += c.records.length;
    }
    for (const [o, h] of state.durable) {
      if (state.pendingReset !== null && o > state.pendingReset && hashes[o] === undefined) {
        state.durable.delete(o); // removed by the resetTo the writer was killed in
        continue;
      }
      if (hashes[o] !== h) {
        throw new Error(
          `${where}: offset ${o} was reported durable (${h}) but is ${hashes[o] === undefined ? 'gone' : `altered (${hashes[o]})`}; log ends at ${hashes.length}`,
        );
      }
      stats.durableChecked++;
    }
    state.pendingReset = null;
    stats.bytesChecked += bytes;
    stats.maxLogSize = Math.max(stats.maxLogSize, bytes);
    // Appending continues contiguously, and what the parent appends is durable too.
    const record = Uint8Array.of(4, 0, 1, 2, 3, hashes.length & 0xff);
    expect(log.append(record)).toBe(true);
    const c = log.flushAndSync();
    expect(c?.txRange, `${where}: append after reopen`).toEqual({ start: hashes.length, end: hashes.length + 1 });
    state.durable.set(hashes.length, hashOf(record));
  } finally {
    log.close();
  }
}

async function runLane(lane: number, kills: number, stats: Stats): Promise<void> {
  const rnd = seededRandom(SEED + lane * 0x9e3779b9);
  const int = (n: number) => Math.floor(rnd() * n);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-crash-'));
  const state: LaneState = { durable: new Map(), pendingReset: null };
  let next = startWriter();
  try {
    for (let k = 0; k < kills; k++) {
      const w = next;
      next = startWriter(); // loads the library while this one runs
      const seed = int(0x7fffffff);
      const options: Partial<Options> & { preallocateBytes: number } = {
        maxSegmentSize: 512 + int(3584),
        maxRecordsInCommit: 1 + int(6),
        offsetIndexIntervalBytes: 32 + int(200),
        offsetIndexRequireSegmentFsync: rnd() < 0.5,
        // Half the writers keep zeros ahead of the head (issue 7): kills leave zero tails behind.
        preallocateBytes: rnd() < 0.5 ? 64 + int(8192) : 0,
      };
      const where = `lane ${lane} kill ${k} (CRASH_SEED=${SEED}, writer seed ${seed})`;
      const plan = rnd();
      const delay = plan < 0.15 ? int(4) : plan < 0.55 ? int(300) : int(3);
      const killAfterLines = 2 + int(80);
      const phase = { open: false, reset: false, compress: false, stream: false };
      let lines = 0;
      let killed = false;
      const kill = (after: number) => {
        if (killed) return;
        killed = true;
        const doKill = () => w.child.kill('SIGKILL');
        if (after <= 0) doKill();
        else setTimeout(doKill, after);
      };
      const tail: string[] = [];
      w.onLine = (line) => {
        tail.push(line);
        if (tail.length > 12) tail.shift();
        lines++;
        const [tag, a, b] = line.split(' ');
        switch (tag) {
          case 'B':
            phase.open = true;
            if (plan < 0.15) kill(delay); // while opening: resume, torn-tail repair
            break;
          case 'O':
            phase.open = false;
            if (plan >= 0.15 && plan < 0.55) kill(delay); // at a random time
            break;
          case 'D':
            state.durable.set(Number(a), b!);
            break;
          case 'R':
            state.pendingReset = Number(a);
            phase.reset = true;
            break;
          case 'r':
            for (const o of state.durable.keys()) if (o > Number(a)) state.durable.delete(o);
            state.pendingReset = null;
            phase.reset = false;
            break;
          case 'C':
            phase.compress = true;
            break;
          case 'c':
            phase.compress = false;
            break;
          case 'W':
            phase.stream = true;
            break;
          case 'w':
            phase.stream = false;
            break;
        }
        if (plan >= 0.55 && lines >= killAfterLines) kill(delay); // right after a reported event
      };
      const safety = setTimeout(() => kill(0), 5000);
      w.child.stdin!.end(`${dir} ${seed} ${JSON.stringify(options)}\n`);
      const how = await w.done;
      clearTimeout(safety);
      if (how !== 'SIGKILL') {
        throw new Error(
          `${where}: the writer exited by itself (${how}):\n${w.stderr}\nlast lines: ${tail.join(' | ')}`,
        );
      }
      stats.kills++;
      if (phase.open) stats.duringOpen++;
      if (phase.reset) stats.duringReset++;
      if (phase.compress) stats.duringCompress++;
      if (phase.stream) stats.duringStream++;
      try {
        verify(dir, state, options, stats, where);
      } catch (e) {
        (e as Error).message =
          `${where}: ${(e as Error).message}\nlast lines: ${tail.join(' | ')}${KEEP ? `\ndirectory kept: ${dir}` : ''}`;
        throw e;
      }
    }
  } finally {
    next.child.kill('SIGKILL');
    await next.done;
    if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('crash loop', () => {
  it(
    `a writer SIGKILLed ${KILLS} times loses nothing it reported durable`,
    async () => {
      const stats: Stats = {
        kills: 0,
        duringOpen: 0,
        duringReset: 0,
        duringCompress: 0,
        duringStream: 0,
        durableChecked: 0,
        bytesChecked: 0,
        maxLogSize: 0,
      };
      const perLane = Math.ceil(KILLS / LANES);
      await Promise.all(Array.from({ length: LANES }, (_, lane) => runLane(lane, perLane, stats)));
      console.log(`crash loop: ${JSON.stringify(stats)}`);
      expect(stats.kills).toBeGreaterThanOrEqual(KILLS);
      expect(stats.durableChecked).toBeGreaterThan(0);
    },
    Math.max(120_000, KILLS * 3_000),
  );
});
