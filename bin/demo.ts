/**
 * `npm start`: writes a small multi-segment log into ./demo-log (or a temp dir with `--tmp`), reopens
 * it, reads it back, and shows what is on disk. Uses the public API only, as a user would.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BufReader,
  type ByteWriter,
  Commitlog,
  type Decoder,
  type Encoder,
  commits,
  indexFileName,
  segmentFileName,
  transactions,
} from '../src/index.js';

const RECORDS = 200_000;
const RECORDS_PER_COMMIT = 100;
/** Small segments so a 40 MB log spans several of them. */
const MAX_SEGMENT_SIZE = 8 * 1024 * 1024;
/** The epoch is raised halfway, as a new leader would, to show it in the commits. */
const EPOCH_CHANGE_AT = RECORDS / 2;

/** Records are strings stored as a u16 length and UTF-8 bytes: the log itself adds no framing per record. */
const textCodec: Encoder<string> & Decoder<string> = {
  encodeRecord(record: string, out: ByteWriter): void {
    const bytes = Buffer.from(record, 'utf8');
    out.writeU16(bytes.length);
    out.write(bytes);
  },
  decodeRecord(_version: number, _txOffset: number, reader: BufReader): string {
    return Buffer.from(reader.getSlice(reader.getU16())).toString('utf8');
  },
  skipRecord(_version: number, _txOffset: number, reader: BufReader): void {
    reader.getSlice(reader.getU16());
  },
};

const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const FILLER = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore ';

/** Transaction `i`, reproducible so the read-back can check every record (~200 bytes, varying). */
function transaction(i: number): string {
  const h = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  const from = NAMES[h % NAMES.length]!;
  const to = NAMES[(NAMES.indexOf(from) + 1 + ((h >>> 8) % (NAMES.length - 1))) % NAMES.length]!;
  const amount = ((h >>> 12) % 100_000) / 100;
  const head = `tx ${i}: ${from} -> ${to} ${amount.toFixed(2)} credits; memo: `;
  const memoLen = 200 - head.length - 20 + (h % 41);
  return head + FILLER.repeat(3).slice(h % 50, (h % 50) + memoLen).trim();
}

const n = (x: number): string => x.toLocaleString('en-US');
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
const rate = (count: number, seconds: number): string => `${n(Math.round(count / seconds))}/s`;

function elapsed(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function write(dir: string, records: readonly string[]): void {
  const t0 = process.hrtime.bigint();
  const log = Commitlog.open(dir, { maxSegmentSize: MAX_SEGMENT_SIZE }, textCodec);
  for (let i = 0; i < RECORDS; i++) {
    if (i === EPOCH_CHANGE_AT) log.setEpoch(1);
    log.append(records[i]!);
    if ((i + 1) % RECORDS_PER_COMMIT === 0) log.flush();
  }
  const max = log.flushAndSync();
  const bytes = log.sizeOnDisk();
  log.close();
  const s = elapsed(t0);
  const avg = records.reduce((sum, r) => sum + Buffer.byteLength(r), 0) / records.length;
  console.log(
    `Wrote ${n(RECORDS)} transactions (~${avg.toFixed(0)} bytes each) in ${n(RECORDS / RECORDS_PER_COMMIT)} commits ` +
      `of ${RECORDS_PER_COMMIT}, epoch raised to 1 at offset ${n(EPOCH_CHANGE_AT)}; flushed and fsynced`,
  );
  console.log(`  max committed offset ${n(max ?? -1)}, ${mb(bytes)} on disk (segments and offset indexes)`);
  console.log(`  write throughput: ${rate(RECORDS, s)} transactions, ${(bytes / s / 2 ** 20).toFixed(0)} MiB/s (${s.toFixed(2)} s)`);
}

function showLog(dir: string): void {
  const log = Commitlog.open(dir, { maxSegmentSize: MAX_SEGMENT_SIZE }, textCodec);
  const offsets = log.existingSegmentOffsets();
  const max = log.maxCommittedOffset();
  console.log(`\nReopened: committed offsets ${n(log.minCommittedOffset() ?? -1)} .. ${n(max ?? -1)}, epoch ${log.epoch}`);
  console.log(`\nSegments (${offsets.length}, maxSegmentSize ${MAX_SEGMENT_SIZE / 2 ** 20} MiB; a rotation fsyncs the full segment):`);
  offsets.forEach((first, i) => {
    const last = i + 1 < offsets.length ? offsets[i + 1]! - 1 : (max ?? first);
    const seg = fs.statSync(path.join(dir, segmentFileName(first))).size;
    const ofs = path.join(dir, indexFileName(first));
    const index = fs.existsSync(ofs) ? `index ${kb(fs.statSync(ofs).size)}` : 'no index';
    console.log(`  ${segmentFileName(first)}  ${mb(seg).padStart(8)}  offsets ${n(first).padStart(7)} .. ${n(last).padEnd(7)}  ${index}`);
  });
  const all = [...log.commits()];
  console.log(`\nCommits (${n(all.length)}), first two and last:`);
  for (const c of [all[0], all[1], all[all.length - 1]]) {
    if (!c) continue;
    const first = textCodec.decodeRecord(1, c.minTxOffset, new BufReader(c.records));
    console.log(
      `  offsets ${n(c.minTxOffset)}..${n(c.minTxOffset + c.n - 1)}  epoch ${c.epoch}  ${c.n} tx  ` +
        `${n(c.records.length)} B  crc32c ${c.checksum.toString(16).padStart(8, '0')}`,
    );
    console.log(`    first: "${first.slice(0, 72)}…"`);
  }
  log.close();
}

function readBack(dir: string, records: readonly string[]): void {
  let t0 = process.hrtime.bigint();
  let count = 0;
  for (const c of commits(dir)) count += c.n;
  const commitSeconds = elapsed(t0);
  t0 = process.hrtime.bigint();
  let checked = 0;
  for (const tx of transactions(dir, textCodec)) {
    if (tx.txdata !== records[tx.offset]) throw new Error(`transaction ${tx.offset} reads back different`);
    checked++;
  }
  const txSeconds = elapsed(t0);
  if (count !== RECORDS || checked !== RECORDS) throw new Error(`read ${count}/${checked} of ${RECORDS} transactions`);
  console.log('\nRead back (directory traversal, CRC32C checked on every commit):');
  console.log(`  commits():      ${n(count)} transactions, ${rate(count, commitSeconds)}`);
  console.log(`  transactions(): ${n(checked)} decoded and compared with what was written, ${rate(checked, txSeconds)}`);
}

function main(): void {
  const useTmp = process.argv.includes('--tmp');
  const dir = useTmp ? fs.mkdtempSync(path.join(os.tmpdir(), 'clog-demo-')) : path.resolve('demo-log');
  if (!useTmp) fs.rmSync(dir, { recursive: true, force: true });
  console.log(`stdb-commitlog demo — log in ${useTmp ? dir : './demo-log'}\n`);
  const records = Array.from({ length: RECORDS }, (_, i) => transaction(i));
  try {
    write(dir, records);
    showLog(dir);
    readBack(dir, records);
  } finally {
    if (useTmp) fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(useTmp ? '\nDone (temp dir removed).' : '\nDone. The log is left in ./demo-log (ls -l demo-log).');
}

main();
