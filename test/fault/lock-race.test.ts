/**
 * The single-writer lock under races (issue 16 §1). Rounds of 5–8 writer processes race for one log
 * directory at the same instant, the way a supervisor restarts writers after a crash, over
 *   (a) a lock file naming a dead pid (in the freshly started rounds: a holder that was SIGKILLed while
 *       it held the log),
 *   (b) a lock file naming a live process that is no writer of this log (pid 1, the runner's parent),
 *   (c) no lock file.
 * After every round: no writer failed other than with LockedError, at least one got the log, the
 * holding intervals never overlap (each winner's interval is read inside its hold, on the host's
 * monotonic clock), the records each winner appended sit in one block in the order of the holds,
 * every refusal named a holder of this round (or the recorded stale holder, or none), and the log
 * verifies. Most rounds run in a pool of live processes (cheap); some start fresh processes together.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commits } from '../../src/log/free.js';
import { verifyLog } from '../../src/maintenance/verify.js';
import { seededRandom } from '../../src/repo/faulty.js';
import { LOCK_FILE_NAME } from '../../src/repo/lock.js';

const WRITER = fileURLToPath(new URL('./lock-race-writer.mjs', import.meta.url));
const POOL_ROUNDS = Number(process.env.LOCK_RACE_ROUNDS ?? 100); // per scenario
const FRESH_ROUNDS = Number(process.env.LOCK_RACE_FRESH_ROUNDS ?? 3); // per scenario
const POOL_SIZE = 8;

type Scenario = 'dead' | 'live' | 'none';

interface Job {
  round: number;
  worker: number;
  dir: string;
  startAt: number;
  records: number;
  holdMs: number;
  die?: boolean;
}

type Outcome =
  | { kind: 'W'; worker: number; t0: bigint; t1: bigint; first: number; count: number }
  | { kind: 'L'; worker: number; holder: number | null }
  | { kind: 'E'; worker: number; message: string };

function parseLine(line: string): Outcome {
  const [kind, , worker, ...rest] = line.split(' ');
  if (kind === 'W') {
    return { kind, worker: Number(worker), t0: BigInt(rest[0]!), t1: BigInt(rest[1]!), first: Number(rest[2]), count: Number(rest[3]) };
  }
  if (kind === 'L') return { kind, worker: Number(worker), holder: rest[0] === '-' ? null : Number(rest[0]) };
  return { kind: 'E', worker: Number(worker), message: line };
}

/** A pool process: one job at a time over stdin, one outcome line back. */
class PoolWorker {
  private buf = '';
  private waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  private exited: string | null = null;
  private lines: string[] = [];
  readonly proc: ChildProcess;

  constructor() {
    this.proc = spawn(process.execPath, [WRITER], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (d: string) => {
      this.buf += d;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const w = this.waiting.shift();
        if (w) w.resolve(line);
        else this.lines.push(line);
      }
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = String(code ?? signal);
      for (const w of this.waiting.splice(0)) w.reject(new Error(`pool writer exited (${this.exited})`));
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.exited !== null) return Promise.reject(new Error(`pool writer exited (${this.exited})`));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  run(job: Job): Promise<string> {
    this.proc.stdin!.write(JSON.stringify(job) + '\n');
    return this.next();
  }
}

/** Runs one job in a freshly started process; resolves with its line and pid. */
function runFresh(job: Job): Promise<{ line: string; pid: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [WRITER, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ line: out.trim(), pid: p.pid!, signal }));
  });
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

function lockOwnerJson(pid: number): string {
  return JSON.stringify({ pid, hostname: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z' }) + '\n';
}

/** Lays the scenario's lock file down for the next round; returns the pid it names, if any. */
function prepare(dir: string, scenario: Scenario, round: number, dead: number): number | null {
  const file = path.join(dir, LOCK_FILE_NAME);
  if (scenario === 'none') {
    fs.rmSync(file, { force: true });
    return null;
  }
  const pid = scenario === 'dead' ? dead : round % 2 === 0 ? 1 : process.ppid;
  fs.writeFileSync(file, lockOwnerJson(pid));
  return pid;
}

interface LogState {
  /** Records of the log so far, in offset order. */
  records: string[];
}

/** The checks of one round; `pids[worker]` is the pid that ran the worker's job. */
function checkRound(
  label: string,
  dir: string,
  state: LogState,
  round: number,
  outcomes: Outcome[],
  pids: Map<number, number>,
  recorded: number | null,
): { winners: number; refusedNamed: number } {
  const errors = outcomes.filter((o) => o.kind === 'E');
  expect(errors, label).toEqual([]);
  const winners = outcomes.filter((o) => o.kind === 'W').sort((a, b) => (a.t0 < b.t0 ? -1 : 1));
  expect(winners.length, `${label}: at least one writer gets the log`).toBeGreaterThanOrEqual(1);
  for (let i = 1; i < winners.length; i++) {
    expect(winners[i]!.t0 > winners[i - 1]!.t1, `${label}: holds of workers ${winners[i - 1]!.worker} and ${winners[i]!.worker} overlap`).toBe(true);
  }
  const winnerPids = new Set(winners.map((w) => pids.get(w.worker)));
  let refusedNamed = 0;
  for (const o of outcomes) {
    if (o.kind !== 'L' || o.holder === null) continue;
    refusedNamed++;
    // A refusal names a winner of this round, or (in the instant before a winner records itself) the
    // record that was there; never a refused writer.
    expect(winnerPids.has(o.holder) || o.holder === recorded, `${label}: refusal names pid ${o.holder}`).toBe(true);
  }
  // Each winner's records form one block, in the order of the holds, right after what was there.
  for (const w of winners) {
    expect(w.first, `${label}: worker ${w.worker} started at the end of the log`).toBe(state.records.length);
    for (let i = 0; i < w.count; i++) state.records.push(`${round}:${w.worker}:${i}`);
  }
  const dec = new TextDecoder();
  const got = [...commits(dir)].map((c) => {
    expect(c.n).toBe(1);
    return dec.decode(c.records);
  });
  expect(got, `${label}: log content`).toEqual(state.records);
  const v = verifyLog(dir);
  expect(v.ok, `${label}: verify ${JSON.stringify(v.problems.slice(0, 3))}`).toBe(true);
  return { winners: winners.length, refusedNamed };
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-lockrace-'));
const pool: PoolWorker[] = [];
const stats: Record<string, { rounds: number; winners: number; refused: number; refusedNamed: number }> = {};

beforeAll(async () => {
  for (let i = 0; i < POOL_SIZE; i++) pool.push(new PoolWorker());
  expect(await Promise.all(pool.map((w) => w.next()))).toEqual(pool.map(() => 'READY'));
});

afterAll(() => {
  for (const w of pool) w.proc.kill('SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log('lock race:', JSON.stringify(stats));
});

function record(scenario: string, r: { winners: number; refusedNamed: number }, total: number): void {
  const s = (stats[scenario] ??= { rounds: 0, winners: 0, refused: 0, refusedNamed: 0 });
  s.rounds++;
  s.winners += r.winners;
  s.refused += total - r.winners;
  s.refusedNamed += r.refusedNamed;
}

describe.each<Scenario>(['dead', 'live', 'none'])('writers racing over %s lock', (scenario) => {
  it(`${POOL_ROUNDS} rounds of 5–8 pool writers: one holder at a time, the log verifies`, async () => {
    const dir = path.join(root, `pool-${scenario}`);
    fs.mkdirSync(dir);
    const rand = seededRandom(scenario.length * 7919);
    const dead = deadPid();
    const state: LogState = { records: [] };
    const pids = new Map(pool.map((w, i) => [i, w.pid]));
    for (let round = 0; round < POOL_ROUNDS; round++) {
      const recorded = prepare(dir, scenario, round, dead);
      const n = 5 + Math.floor(rand() * 4);
      const startAt = Date.now() + 12;
      const jobs = pool.slice(0, n).map((w, worker) =>
        w.run({
          round,
          worker,
          dir,
          // Most start at the same instant; some a little later, after a holder may have let go.
          startAt: startAt + (rand() < 0.3 ? Math.floor(rand() * 4) : 0),
          records: 1 + Math.floor(rand() * 3),
          holdMs: Math.floor(rand() * 3),
        }),
      );
      const outcomes = (await Promise.all(jobs)).map(parseLine);
      record(`pool-${scenario}`, checkRound(`${scenario} round ${round}`, dir, state, round, outcomes, pids, recorded), n);
    }
  });

  it(`${FRESH_ROUNDS} rounds of 5–8 freshly started writers${scenario === 'dead' ? ' after a holder is SIGKILLed' : ''}`, async () => {
    const dir = path.join(root, `fresh-${scenario}`);
    fs.mkdirSync(dir);
    const rand = seededRandom(scenario.length * 104729);
    const dead = deadPid();
    const state: LogState = { records: [] };
    for (let round = 0; round < FRESH_ROUNDS; round++) {
      let recorded = prepare(dir, scenario, round, dead);
      if (scenario === 'dead') {
        // A real holder dies holding the log: its records stay, its lock goes with it.
        const killed = await runFresh({ round, worker: 99, dir, startAt: 0, records: 1, holdMs: 0, die: true });
        expect(killed.signal).toBe('SIGKILL');
        state.records.push(`${round}:99:0`);
        recorded = killed.pid;
        expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).pid).toBe(killed.pid);
      }
      const n = 5 + Math.floor(rand() * 4);
      const startAt = Date.now() + 250; // time for every process to start and load the library
      const runs = await Promise.all(
        Array.from({ length: n }, (_, worker) =>
          runFresh({ round, worker, dir, startAt, records: 1 + Math.floor(rand() * 3), holdMs: 1 + Math.floor(rand() * 2) }),
        ),
      );
      const pids = new Map(runs.map((r, worker) => [worker, r.pid]));
      const outcomes = runs.map((r) => parseLine(r.line));
      record(`fresh-${scenario}`, checkRound(`${scenario} fresh round ${round}`, dir, state, round, outcomes, pids, recorded), n);
    }
  });
});
