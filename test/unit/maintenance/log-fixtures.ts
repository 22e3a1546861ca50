/**
 * Generated logs for the ops and CLI tests, with their expected layout computed from the spec (not read
 * back from our own output): one record of `recordLen` bytes per commit, so commit `k` has offset `k`
 * and a frame of 26 + recordLen bytes (SPEC §2.3); segments rotate by the rule of §5.3.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import { Commitlog, indexFileName, segmentFileName } from '../../../src/index.js';
import { encodeCommit } from '../../../src/api/codec.js';

export interface GenOptions {
  commits: number;
  recordLen?: number;
  maxSegmentSize?: number;
  offsetIndexIntervalBytes?: number;
  /** `setEpoch(e)` before commit k, for each `[k, e]`. */
  epochs?: Array<[number, number]>;
}

export interface CommitPlace {
  segment: number;
  byteOffset: number;
  minTxOffset: number;
  epoch: number;
  len: number;
}

const HEADER = 10;
const FRAMING = 26;

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
}

/** A maker of temporary directories, all removed after each test of the calling file. */
export function tempDirs(): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = tmpDir();
    dirs.push(d);
    return d;
  };
}

/** Record `k`: distinct, deterministic bytes (so every commit has its own checksum). */
export function record(k: number, len: number): Uint8Array {
  const r = new Uint8Array(len);
  for (let i = 0; i < len; i++) r[i] = (k * 31 + i * 7 + 1) & 0xff;
  return r;
}

/** Writes the log into `dir` and returns where every commit must be, by the spec's rules. */
export function writeLog(dir: string, o: GenOptions): CommitPlace[] {
  const recordLen = o.recordLen ?? 50;
  const maxSegmentSize = o.maxSegmentSize ?? 1024;
  const log = Commitlog.open(dir, { maxSegmentSize, offsetIndexIntervalBytes: o.offsetIndexIntervalBytes ?? 256 });
  const epochs = new Map(o.epochs ?? []);
  const places: CommitPlace[] = [];
  let segment = 0;
  let bytes = HEADER;
  let epoch = 0;
  // §5.3: rotate iff bytesWritten > 10 and bytesWritten + 26 + recordsLen > maxSegmentSize (also for
  // the empty commit of setEpoch, QUIRK Q5).
  const rotateFor = (recordsLen: number, next: number): void => {
    if (bytes > HEADER && bytes + FRAMING + recordsLen > maxSegmentSize) {
      segment = next;
      bytes = HEADER;
    }
  };
  for (let k = 0; k < o.commits; k++) {
    const e = epochs.get(k);
    if (e !== undefined) {
      log.setEpoch(e);
      rotateFor(0, k);
      epoch = e;
    }
    log.append(record(k, recordLen));
    log.flush();
    rotateFor(recordLen, k);
    places.push({ segment, byteOffset: bytes, minTxOffset: k, epoch, len: recordLen });
    bytes += FRAMING + recordLen;
  }
  log.close();
  return places;
}

export function segPath(dir: string, offset: number): string {
  return path.join(dir, segmentFileName(offset));
}

export function idxPath(dir: string, offset: number): string {
  return path.join(dir, indexFileName(offset));
}

export function flipBit(file: string, byte: number, bit = 0): void {
  const b = fs.readFileSync(file);
  b[byte]! ^= 1 << bit;
  fs.writeFileSync(file, b);
}

export function truncateFile(file: string, length: number): void {
  fs.truncateSync(file, length);
}

export function appendBytes(file: string, bytes: Uint8Array): void {
  fs.appendFileSync(file, bytes);
}

/** A v1 commit frame (the writer's encoder) for hand-made damage such as forks and gaps. */
export function frame(minTxOffset: number, records: Uint8Array, epoch = 0): Uint8Array {
  return encodeCommit({ minTxOffset, epoch, n: 1, records }).bytes;
}

/** Reads the entries of an index file (16-byte LE key/value pairs) up to the first zero key (SPEC §3.2). */
export function indexEntries(file: string): Array<[number, number]> {
  const b = fs.readFileSync(file);
  const out: Array<[number, number]> = [];
  for (let p = 0; p + 16 <= b.length; p += 16) {
    const key = Number(b.readBigUInt64LE(p));
    if (key === 0) break;
    out.push([key, Number(b.readBigUInt64LE(p + 8))]);
  }
  return out;
}

export function writeIndexEntry(file: string, i: number, key: number, value: number): void {
  const fd = fs.openSync(file, 'r+');
  const e = Buffer.alloc(16);
  e.writeBigUInt64LE(BigInt(key), 0);
  e.writeBigUInt64LE(BigInt(value), 8);
  fs.writeSync(fd, e, 0, 16, i * 16);
  fs.closeSync(fd);
}

/** Four commits of three 2-byte records each, one segment: commits [0,3) [3,6) [6,9) [9,12) of 32 bytes at 10 + 32k. */
export function writeMultiRecordLog(dir: string): void {
  const log = Commitlog.open(dir);
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 3; r++) log.append(new Uint8Array([c, r]));
    log.flush();
  }
  log.close();
}

/** A maker of generated 40-commit logs (segments 0, 13, 26, 39) in temporary directories. */
export function tempLogs(): () => string {
  const fresh = tempDirs();
  return () => {
    const d = fresh();
    writeLog(d, { commits: 40 });
    return d;
  };
}

/** Segment first offsets of a generated layout. */
export function segmentsOf(places: CommitPlace[]): number[] {
  return [...new Set(places.map((p) => p.segment))];
}
