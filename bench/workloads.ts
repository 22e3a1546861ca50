/**
 * The measured workloads and their baselines. Each function does one full pass and returns what it
 * processed, so the caller can both time it and check that the log really holds what was written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArrayDecoder, type BufReader, Commitlog, commits, foldTransactions, transactions } from '../src/index.js';
import { FRAMING_LEN } from '../src/api/codec.js';

export const RECORD_LEN = 200;
export const RECORDS_PER_COMMIT = 1000;
/** Bytes of one commit on disk: the baseline writes chunks of exactly this size. */
export const COMMIT_LEN = RECORDS_PER_COMMIT * RECORD_LEN + FRAMING_LEN;
/** 1 MiB: the read baseline's buffer, larger than any commit so it is not penalised by short reads. */
const READ_BUFFER_LEN = 1024 * 1024;
/** 4 MiB of source bytes: large enough that commits differ, small enough to stay in the CPU caches' reach. */
const SOURCE_LEN = 4 * 1024 * 1024;

/**
 * Record contents, generated once: `pool[i]` is a 200-byte view into one random buffer, so the log and
 * the write baseline copy the very same bytes. Commit `c` takes records `c*1000 ..` modulo the pool size.
 */
export class RecordSource {
  readonly bytes: Uint8Array;
  readonly pool: Uint8Array[];

  constructor(seed = 0x2545f491) {
    this.bytes = new Uint8Array(SOURCE_LEN);
    // xorshift32: deterministic content without pulling in a dependency.
    let x = seed >>> 0 || 1;
    for (let i = 0; i < this.bytes.length; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.bytes[i] = x & 0xff;
      this.bytes[i + 1] = (x >>> 8) & 0xff;
      this.bytes[i + 2] = (x >>> 16) & 0xff;
      this.bytes[i + 3] = (x >>> 24) & 0xff;
    }
    // Leave a commit's worth of slack at the end so a baseline chunk never runs past the buffer.
    const count = Math.floor((SOURCE_LEN - COMMIT_LEN) / RECORD_LEN);
    this.pool = [];
    for (let i = 0; i < count; i++) this.pool.push(this.bytes.subarray(i * RECORD_LEN, (i + 1) * RECORD_LEN));
  }

  /** Index in `pool` of the first record of commit `c`. */
  firstRecordOf(c: number): number {
    return (c * RECORDS_PER_COMMIT) % this.pool.length;
  }
}

/** Bulk append: default options, 1000 records per commit via append() + flush(), no fsync. */
export function appendLog(dir: string, src: RecordSource, numCommits: number): number {
  const log = Commitlog.open(dir);
  const pool = src.pool;
  const size = pool.length;
  for (let c = 0; c < numCommits; c++) {
    const first = src.firstRecordOf(c);
    for (let k = 0; k < RECORDS_PER_COMMIT; k++) {
      if (!log.append(pool[(first + k) % size]!)) throw new Error(`append refused record ${k} of commit ${c}`);
    }
    log.flush();
  }
  log.close();
  return numCommits * RECORDS_PER_COMMIT;
}

/** Baseline: the same number of bytes, in the same chunk size, written with plain fs.writeSync. */
export function rawWrite(file: string, src: RecordSource, numCommits: number): number {
  const fd = fs.openSync(file, 'w');
  try {
    for (let c = 0; c < numCommits; c++) {
      const start = src.firstRecordOf(c) * RECORD_LEN;
      let done = 0;
      while (done < COMMIT_LEN) done += fs.writeSync(fd, src.bytes, start + done, COMMIT_LEN - done);
    }
  } finally {
    fs.closeSync(fd);
  }
  return numCommits * COMMIT_LEN;
}

/** The segment files of a log directory, in offset order (what a traversal reads). */
export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.stdb.log'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Baseline: every segment file read front to back through a 1 MiB buffer. Returns bytes read. */
export function rawRead(files: readonly string[]): number {
  const buf = new Uint8Array(READ_BUFFER_LEN);
  let total = 0;
  for (const file of files) {
    const fd = fs.openSync(file, 'r');
    try {
      // Positional reads (pread), like the log's reader.
      let pos = 0;
      let got: number;
      while ((got = fs.readSync(fd, buf, 0, buf.length, pos)) > 0) pos += got;
      total += pos;
    } finally {
      fs.closeSync(fd);
    }
  }
  return total;
}

export function traverseCommits(dir: string): number {
  let n = 0;
  for (const c of commits(dir)) n += c.n;
  return n;
}

/**
 * `ArrayDecoder(200)` whose fold path only advances the cursor: what a fold that inspects records in
 * place (no copy) costs.
 */
export class SliceDecoder extends ArrayDecoder {
  count = 0;
  consumeRecord(_version: number, _txOffset: number, reader: BufReader): void {
    reader.getSlice(this.n);
    this.count++;
  }
}

export function foldRecords(dir: string): number {
  const decoder = new SliceDecoder(RECORD_LEN);
  foldTransactions(dir, decoder);
  return decoder.count;
}

export function traverseTransactions(dir: string): number {
  let n = 0;
  for (const tx of transactions(dir, new ArrayDecoder(RECORD_LEN))) {
    if (tx.txdata.length !== RECORD_LEN) throw new Error(`transaction ${tx.offset} decoded to ${tx.txdata.length} bytes`);
    n++;
  }
  return n;
}

export function dirBytes(files: readonly string[]): number {
  let total = 0;
  for (const f of files) total += fs.statSync(f).size;
  return total;
}
