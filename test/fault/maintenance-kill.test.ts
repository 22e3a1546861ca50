/**
 * SIGKILL of the maintenance commands at random moments (issue 16 §5): `clog compress`, `reset-to`,
 * `prune` and `index rebuild` are killed mid-run, then the log must hold what it held (compress, index
 * rebuild), a prefix reaching the reset point (reset-to) or a suffix (prune), and the next writer to
 * open the directory removes the temporary files the killed run left, leaving nothing but the log.
 * KILL_ROUNDS (default 6) is the number of kills per command; the attack used 100.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commitlog, commits } from '../../src/index.js';
import { MAIN } from '../e2e/clog-run.js';
import { tempDirs, tmpDir, writeLog } from '../unit/maintenance/log-fixtures.js';
import { rng } from '../helpers/common.js';

const ROUNDS = Number(process.env.KILL_ROUNDS ?? 6);
const COMMITS = 3000;
const newDir = tempDirs();

/** Offset and checksum of every commit the log reads back, in order. */
function readBack(dir: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const c of commits(dir)) out.push([c.minTxOffset, c.checksum]);
  return out;
}

/** Names in `dir` that are neither segments, index files nor the lock file. */
function strays(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => !/^\d{20}\.stdb\.(log|ofs)$/.test(n) && n !== 'commitlog.lock');
}

/** Runs clog, killing it `killAfterMs` after spawn (or never); resolves with how long it ran. */
function runKilled(args: string[], killAfterMs: number | null): Promise<{ ms: number; killed: boolean; code: number | null }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: 'ignore' });
  const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ ms: performance.now() - t0, killed: signal === 'SIGKILL', code });
    });
  });
}

interface Case {
  name: string;
  args(dir: string, pick: number): string[];
  /** Checks what the log reads back after a kill, against the original commits. */
  check(got: Array<[number, number]>, original: Array<[number, number]>, pick: number): void;
}

const sameLog = (got: Array<[number, number]>, original: Array<[number, number]>) => expect(got).toEqual(original);

const CASES: Case[] = [
  { name: 'compress', args: (d) => ['compress', d, '--keep-last', '1'], check: sameLog },
  { name: 'index rebuild', args: (d) => ['index', 'rebuild', d], check: sameLog },
  {
    name: 'reset-to',
    args: (d, pick) => ['reset-to', d, String(pick), '--yes'],
    check(got, original, pick) {
      // Anything from the whole log down to the cut: always a prefix, always through `pick`.
      expect(got).toEqual(original.slice(0, got.length));
      expect(got[got.length - 1]![0]).toBeGreaterThanOrEqual(pick);
    },
  },
  {
    name: 'prune',
    args: (d, pick) => ['prune', d, '--before', String(pick), '--yes'],
    check(got, original, pick) {
      // Whole segments go oldest first: always a suffix, always still holding `pick`.
      expect(got).toEqual(original.slice(original.length - got.length));
      expect(got[0]![0]).toBeLessThanOrEqual(pick);
    },
  },
];

describe('SIGKILL of maintenance commands', () => {
  // Shared by every test of the file, so not from `newDir` (whose directories go after each test).
  const template = tmpDir();
  const compressed = tmpDir();
  afterAll(() => {
    for (const d of [template, compressed]) fs.rmSync(d, { recursive: true, force: true });
  });
  // 3000 commits of ~1 KiB in 256 KiB segments: 12 segments, enough work for a kill to land inside it.
  writeLog(template, { commits: COMMITS, recordLen: 1000, maxSegmentSize: 256 * 1024, offsetIndexIntervalBytes: 4096 });
  const original = readBack(template);
  // Some runs compress first, so reset-to and prune also meet compressed segments (rewritten on reset).
  beforeAll(async () => {
    fs.cpSync(template, compressed, { recursive: true });
    expect((await runKilled(['compress', compressed, '--keep-last', '1'], null)).code).toBe(0);
    expect(fs.readdirSync(compressed).filter((n) => n.endsWith('.log') && isZstd(path.join(compressed, n)))).toHaveLength(11);
  }, 60_000);

  for (const c of CASES) {
    it(
      `${c.name}: every kill leaves the log intact and the next writer removes the leftovers`,
      async () => {
        const random = rng(0x5eed + c.name.length);
        // Time one whole run, to spread the kills over it.
        const probe = newDir();
        fs.cpSync(template, probe, { recursive: true });
        const full = await runKilled(c.args(probe, COMMITS / 2), null);
        expect(full.code).toBe(0);
        let killedMidway = 0;
        let leftovers = 0;
        for (let round = 0; round < ROUNDS; round++) {
          const dir = newDir();
          fs.cpSync(round % 2 === 0 ? template : compressed, dir, { recursive: true });
          const pick = 1 + Math.floor(random() * (COMMITS - 2));
          const run = await runKilled(c.args(dir, pick), full.ms * (0.4 + 0.6 * random()));
          if (run.killed) killedMidway++;
          else expect(run.code, `${c.name} round ${round} ended by itself`).toBe(0);
          c.check(readBack(dir), original, pick);
          if (strays(dir).length > 0) leftovers++;
          // The next writer takes the lock and clears what the killed run left.
          Commitlog.open(dir).close();
          expect(strays(dir), `${c.name} round ${round}`).toEqual([]);
          c.check(readBack(dir), original, pick);
        }
        console.log(`${c.name}: ${ROUNDS} rounds, ${killedMidway} killed before the end, ${leftovers} left temporary files`);
      },
      120_000,
    );
  }
});

function isZstd(file: string): boolean {
  const b = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, b, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  return b.readUInt32LE(0) === 0xfd2fb528;
}
