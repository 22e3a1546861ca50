/**
 * Fuzzing compressed segments (issue 8, SPEC §9): seekable-zstd segment files written by the library
 * (and random seek tables) are mutated and read through `ZstdSegmentFile` in memory, then as segment
 * files of a real directory through `FsRepo` (traversal, committedMeta, the stream reader, open, resetTo).
 * Only typed errors may escape, every case ends within a time bound, and no size claimed by a seek table
 * is allocated beyond what the file can back (SPEC §9.4). `FUZZ_RUNS` scales the number of cases.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Commitlog,
  CommitlogError,
  FsRepo,
  GenericLog,
  MemoryFile,
  commits,
  committedMeta,
  resetTo,
  segmentFileName,
  streamCommitsSync,
} from '../../src/index.js';
import {
  SEEKABLE_MAGIC,
  SKIPPABLE_MAGIC,
  decodeSeekTable,
  decodeSeekTableFooter,
} from '../../src/compress/seekable.js';
import { ZstdSegmentFile } from '../../src/compress/zstd-file.js';
import {
  bufferOf,
  fuzzCounter,
  fuzzRuns,
  mutate,
  mutationsArb,
  timeBound,
  typed,
  FUZZ_TIMEOUT_MS,
} from '../helpers/reliability.js';

const OPTIONS = { maxSegmentSize: 6000, offsetIndexIntervalBytes: 256 };
let root: string;
let logDir: string;
/** Compressed bytes and decompressed content of the sealed segments. */
let segments: { offset: number; compressed: Uint8Array; plain: Uint8Array }[];

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  logDir = path.join(root, 'log');
  const log = Commitlog.open(logDir, OPTIONS);
  for (let i = 0; i < 300; i++) {
    log.append(new Uint8Array(20 + (i % 50)).fill(i % 7)); // compressible, several 4096-byte frames per segment
    log.flush();
  }
  log.flushAndSync();
  const sealed = log.existingSegmentOffsets().slice(0, -1);
  const plain = sealed.map((o) => fs.readFileSync(path.join(logDir, segmentFileName(o))));
  log.compressSegments(sealed);
  log.close();
  segments = sealed.map((o, i) => ({
    offset: o,
    compressed: fs.readFileSync(path.join(logDir, segmentFileName(o))),
    plain: plain[i]!,
  }));
});

afterAll(() => {
  console.log(`compressed fuzz: ${fuzzCounter.cases} cases`);
  fs.rmSync(root, { recursive: true, force: true });
});

/** Reads the whole decompressed view in chunks of `step` bytes (a claimed size is not allocated here). */
function readAll(file: ZstdSegmentFile, step: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(step);
  for (let at = 0; at < file.size();) {
    const n = file.read(buf, 0, step, at);
    if (n <= 0) break;
    if (chunks.length < 64) chunks.push(buf.slice(0, n));
    at += n;
  }
  return Buffer.concat(chunks);
}

describe('fuzz: compressed segments', () => {
  it(
    'the unmutated files read back as the plain segments',
    () => {
      expect(segments.length).toBeGreaterThan(1);
      for (const s of segments) {
        const f = new ZstdSegmentFile(new MemoryFile(bufferOf(s.compressed), false));
        expect(f.frameCount).toBeGreaterThan(1);
        expect(Buffer.from(readAll(f, 4000)).equals(Buffer.from(s.plain))).toBe(true);
      }
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated files through ZstdSegmentFile (in memory)',
    () => {
      fc.assert(
        fc.property(fc.nat(), mutationsArb, fc.integer({ min: 1, max: 9000 }), (which, mutations, step) => {
          fuzzCounter.cases++;
          const s = segments[which % segments.length]!;
          const bytes = mutate(s.compressed, mutations);
          timeBound('zstd file', () => {
            const file = typed('open', () => new ZstdSegmentFile(new MemoryFile(bufferOf(bytes), false)));
            if (file instanceof ZstdSegmentFile) typed('read', () => readAll(file, step));
          });
        }),
        { numRuns: fuzzRuns(400) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated files as segments of a directory (FsRepo): traversal, metadata, streaming, open, resetTo',
    () => {
      let n = 0;
      fc.assert(
        fc.property(fc.nat(), mutationsArb, fc.nat({ max: 400 }), (which, mutations, probe) => {
          fuzzCounter.cases++;
          const dir = path.join(root, `case-${n++}`);
          fs.cpSync(logDir, dir, { recursive: true });
          const s = segments[which % segments.length]!;
          fs.writeFileSync(path.join(dir, segmentFileName(s.offset)), mutate(s.compressed, mutations));
          timeBound('directory', () => {
            typed('commits', () => [...commits(dir, { errors: 'yield' })]);
            typed('committedMeta', () => committedMeta(dir));
            typed('stream', () => [...streamCommitsSync(dir, { start: probe })]);
            const log = typed('open', () => GenericLog.open(new FsRepo(dir), OPTIONS));
            if (log instanceof GenericLog) {
              typed('traversal', () => [...log.commits({ errors: 'yield' })]);
              log.close();
            }
            typed('resetTo', () => resetTo(dir, probe));
          });
          fs.rmSync(dir, { recursive: true, force: true });
        }),
        { numRuns: fuzzRuns(60, 0.1) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'random seek tables: typed errors, and no frame size is taken on trust',
    () => {
      const u32 = fc.oneof(
        fc.constantFrom(0, 1, 4096, 0x7fff_ffff, 0xffff_ffff),
        fc.integer({ min: 0, max: 0xffff_ffff }),
      );
      fc.assert(
        fc.property(
          fc.array(fc.tuple(u32, u32), { maxLength: 6 }),
          u32,
          fc.integer({ min: 0, max: 255 }),
          fc.nat({ max: 100 }),
          (entries, count, descriptor, extra) => {
            fuzzCounter.cases++;
            const table = new Uint8Array(8 + entries.length * 8 + 9);
            const v = new DataView(table.buffer);
            v.setUint32(0, SKIPPABLE_MAGIC, true);
            v.setUint32(4, entries.length * 8 + 9, true);
            entries.forEach(([c, d], i) => {
              v.setUint32(8 + i * 8, c, true);
              v.setUint32(12 + i * 8, d, true);
            });
            const f = 8 + entries.length * 8;
            v.setUint32(f, count, true);
            table[f + 4] = descriptor;
            v.setUint32(f + 5, SEEKABLE_MAGIC, true);
            const fileSize = table.length + extra;
            timeBound('seek table', () => {
              typed('footer', () => decodeSeekTableFooter(table.subarray(table.length - 9), fileSize));
              const frames = typed('table', () => decodeSeekTable(table, fileSize));
              if (!(frames instanceof CommitlogError)) {
                // Accepted frames exactly cover the compressed bytes before the table.
                expect(frames.reduce((a, fr) => a + fr.compressedSize, 0)).toBe(fileSize - table.length);
              }
              // The same table at the end of a file of junk frames, read as a segment.
              const file = new Uint8Array(fileSize);
              file.set([0x28, 0xb5, 0x2f, 0xfd]);
              file.set(table, extra);
              const z = typed('zstd file', () => new ZstdSegmentFile(new MemoryFile(bufferOf(file), false)));
              if (z instanceof ZstdSegmentFile) typed('read', () => readAll(z, 4096));
            });
          },
        ),
        { numRuns: fuzzRuns(500) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
