// The writer process of the crash loop (crash-loop.test.ts): seeded random work on a real log
// directory until it is SIGKILLed. It reports on stdout, one line at a time and only once the call
// that makes it true has returned:
//   B                    about to open the log
//   O <next>             opened; the next offset is <next>
//   D <offset> <hash>    the transaction at <offset> is durable; <hash> is a hash of its record bytes
//   R <offset> / r <offset>   resetTo(<offset>) starts / has returned (-1: reset())
//   C <offsets> / c      compressSegments starts / has returned
//   W <start> <end> / w  a StreamWriter append of [start, end) starts / has returned
// Records are `u16 LE length | payload`, so the parent can cut a commit back into transactions.
// It starts (imports the library) ahead of time and waits for one stdin line `<dir> <seed> <options as
// JSON>`, so the parent can have the next writer ready while it checks the last one's directory.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import {
  Commitlog,
  FsRepo,
  GenericLog,
  MemoryRepo,
  StreamWriter,
  streamCommitsSync,
} from '../../dist/src/index.js';
import { encodeCommit, encodeSegmentHeader } from '../../dist/src/api/codec.js';
import { seededRandom } from '../../dist/src/api/testing.js';

const go = await new Promise((resolve) => {
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    buf += d;
    if (buf.includes('\n')) {
      process.stdin.pause();
      resolve(buf.slice(0, buf.indexOf('\n')));
    }
  });
});
const [dir, seedArg, ...rest] = go.split(' ');
// `preallocateBytes` is the repo's option, the rest the log's.
const { preallocateBytes, ...options } = JSON.parse(rest.join(' '));
const openLog = () => new Commitlog(GenericLog.open(new FsRepo(dir, { preallocateBytes }), options));
const random = seededRandom(Number(seedArg));
const int = (n) => Math.floor(random() * n);
// Synchronous writes to the pipe: a line the parent has read was written after the fact it states.
const say = (line) => {
  const bytes = Buffer.from(`${line}\n`);
  for (let done = 0; done < bytes.length;) {
    try {
      done += fs.writeSync(1, bytes, done);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e; // a full pipe: the parent is busy checking
    }
  }
};
const hashOf = (bytes) => createHash('sha1').update(bytes).digest('hex').slice(0, 16);

function record() {
  const n = int(120);
  const r = new Uint8Array(2 + n);
  r[0] = n & 0xff;
  r[1] = n >> 8;
  const seed = int(0x7fffffff);
  for (let i = 0; i < n; i++) r[2 + i] = (seed >>> (i % 24)) ^ i;
  return r;
}

say('B');
let log = openLog();
let next = (log.maxCommittedOffset() ?? -1) + 1;
say(`O ${next}`);
/** Committed but not yet reported durable: [offset, hash]. */
let unsynced = [];

function report() {
  for (const [o, h] of unsynced) say(`D ${o} ${h}`);
  unsynced = [];
}

function appendCommit() {
  const k = 1 + int(options.maxRecordsInCommit);
  const hashes = [];
  for (let i = 0; i < k; i++) {
    const r = record();
    if (!log.append(r)) break;
    hashes.push(hashOf(r));
  }
  log.flush();
  hashes.forEach((h, i) => unsynced.push([next + i, h]));
  next += hashes.length;
  if (log.maxCommittedOffset() !== next - 1)
    throw new Error(`flush: max committed ${log.maxCommittedOffset()}, expected ${next - 1}`);
}

function resetTo() {
  // Mostly short rewinds, sometimes far back, so the log stays small over thousands of kills.
  const o = random() < 0.7 ? next - 1 - int(Math.min(next, 30)) : int(Math.max(next, 1)) - 1;
  say(`R ${o}`);
  log = o < 0 ? log.reset() : log.resetTo(o);
  next = (log.maxCommittedOffset() ?? -1) + 1;
  say(`r ${o}`);
  unsynced = unsynced.filter(([x]) => x < next);
}

function compress() {
  const sealed = log.existingSegmentOffsets().slice(0, -1);
  if (sealed.length === 0) return;
  const chosen = sealed.filter(() => random() < 0.5).slice(0, 4);
  say(`C ${chosen.join(',')}`);
  log.compressSegments(chosen);
  say('c');
}

/** Closes the log, appends [next, next+m) from a second log through a StreamWriter, reopens. */
async function stream() {
  const epoch = log.epoch;
  log.close();
  const m = 1 + int(30);
  const before = int(3); // commits of the source segment before `next`: the stream then carries no header
  const start = Math.max(0, next - before);
  const source = new MemoryRepo();
  const file = source.createSegment(start);
  const header = encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 });
  file.append(header, 0, header.length);
  const streamed = [];
  for (let o = start; o < next + m; o++) {
    const r = record();
    const { bytes } = encodeCommit({ minTxOffset: o, epoch, n: 1, records: r });
    file.append(bytes, 0, bytes.length);
    if (o >= next) streamed.push([o, hashOf(r)]);
  }
  say(`W ${next} ${next + m}`);
  const writer = StreamWriter.create(dir, options);
  await writer.appendAll(streamCommitsSync(source, { start: next }));
  await writer.syncAll();
  await writer.close();
  for (const [o, h] of streamed) say(`D ${o} ${h}`);
  say('w');
  next += m;
  log = openLog();
  if (log.maxCommittedOffset() !== next - 1)
    throw new Error(`after stream: max committed ${log.maxCommittedOffset()}, expected ${next - 1}`);
}

try {
  for (;;) {
    const r = random();
    if (r < 0.55) appendCommit();
    else if (r < 0.67) {
      log.flushAndSync();
      report();
    } else if (r < 0.77) {
      log.sync();
      report();
    } else if (r < 0.8) log.setEpoch(log.epoch + 1);
    else if (r < 0.84) resetTo();
    else if (r < 0.9) compress();
    else if (r < 0.94) await stream();
    else if (r < 0.96) {
      log.close();
      log = openLog();
      say(`O ${(log.maxCommittedOffset() ?? -1) + 1}`);
    } else {
      for (let i = int(5); i > 0; i--) {
        const rec = record();
        log.appendMaybeFlush(rec);
        unsynced.push([next++, hashOf(rec)]);
      }
      log.flush();
    }
  }
} catch (e) {
  // Nothing may fail on its own: every failure is a finding.
  process.stderr.write(`crash-writer failed: ${e?.stack ?? e}\n`);
  process.exit(1);
}
