// Generated logs for the archive tests: written by the library's own writer, several small segments.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Commitlog, commitIterator } from '../../src/index.js';
import { decompressSeekable } from '../../src/archive/zstd-object.js';
import { isZstdMagic } from '../../src/compress/seekable.js';

/** Small segments, one transaction per commit: a few hundred commits make several segments. */
export const GEN_OPTS = { maxSegmentSize: 8192, maxRecordsInCommit: 1 };

const made: string[] = [];
export function tmpDir(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `clog-${tag}-`));
  made.push(d);
  return d;
}
export function cleanTmp(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Appends `count` commits of 20..220 random bytes each. */
export function appendCommits(dir: string, count: number): void {
  const log = Commitlog.open(dir, GEN_OPTS);
  for (let i = 0; i < count; i++) {
    log.append(randomBytes(20 + Math.floor(Math.random() * 200)));
    log.flush();
  }
  log.flushAndSync();
  log.close();
}

/** Every `*.stdb.log` file of `dir`, as stored. */
export function segFiles(dir: string): Record<string, Buffer> {
  const r: Record<string, Buffer> = {};
  for (const n of fs.readdirSync(dir).filter((n) => n.endsWith('.stdb.log')).sort()) r[n] = fs.readFileSync(path.join(dir, n));
  return r;
}

/** Like `segFiles`, compressed segments decompressed. */
export function plainFiles(dir: string): Record<string, Buffer> {
  const r = segFiles(dir);
  for (const [n, b] of Object.entries(r)) if (isZstdMagic(b)) r[n] = Buffer.from(decompressSeekable(b, n));
  return r;
}

/**
 * The source cut after the commit holding tx `at`, computed with the library's traversal (not the
 * archive's scanner): segments before the cut whole, the cut segment up to the next commit's byte.
 */
export function prefixAt(dir: string, at: number): Record<string, Buffer> {
  const files = plainFiles(dir);
  const it = commitIterator(dir);
  for (const c of it) {
    if (c.minTxOffset <= at) continue;
    const r: Record<string, Buffer> = {};
    for (const [n, b] of Object.entries(files)) {
      const seg = Number(n.slice(0, 20));
      if (seg < it.segment) r[n] = b;
      else if (seg === it.segment && it.byteOffset > 10) r[n] = b.subarray(0, it.byteOffset);
    }
    return r;
  }
  return files;
}

/** Last tx offset of the log and the first tx of every segment. */
export function txBounds(dir: string): { last: number; segments: number[] } {
  let last = -1;
  for (const c of commitIterator(dir)) last = c.minTxOffset + c.n - 1;
  const segments = fs.readdirSync(dir).filter((n) => n.endsWith('.stdb.log')).map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);
  return { last, segments };
}
