/** Small helpers shared by many test files: temp directories, seeded randomness, caught errors. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import type { Commitlog } from '../../src/index.js';
import { LOCK_FILE_NAME } from '../../src/repo/lock.js';

/**
 * The names in a log directory, without the writer's lock file: it stays behind after a writer closes
 * (its lock lives on the descriptor, not in the file) and holds that writer's pid and start time.
 */
export function logDirNames(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n !== LOCK_FILE_NAME);
}

/**
 * Registers cleanup for the calling test file and returns a function making fresh temp directories;
 * each is removed after the test that made it.
 */
export function useTmpDirs(prefix = 'clog-'): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** Whatever `fn` throws, or null if it returns. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return null;
}

/** xorshift32: the same sequence, and so the same logs, on every run. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32);
}

/** `count` flushed commits of 1..`maxRecords` records of `minLen`..`maxLen` random bytes. */
export function appendRandomCommits(
  log: Commitlog,
  count: number,
  rand: () => number,
  shape: { maxRecords: number; minLen: number; maxLen: number },
): void {
  for (let c = 0; c < count; c++) {
    const n = 1 + Math.floor(rand() * shape.maxRecords);
    for (let i = 0; i < n; i++) {
      const rec = new Uint8Array(shape.minLen + Math.floor(rand() * (shape.maxLen - shape.minLen)));
      for (let j = 0; j < rec.length; j++) rec[j] = (rand() * 256) | 0;
      log.append(rec);
    }
    log.flush();
  }
}
