/**
 * `mirror()` (issue 4, "Server and client"): copying a log from a server over loopback HTTP, or from a
 * local directory, into a destination through StreamWriter. With the source's options the destination
 * is byte-identical, index files included (SPEC §11.3.4); it resumes after what the destination holds;
 * it follows a live log; a refused token is a MirrorError carrying the HTTP status.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Commitlog,
  InvalidDataError,
  NotFoundError,
  StreamWriter,
  commits,
  existingSegmentOffsets,
  segmentFileName,
  streamCommits,
} from '../../src/index.js';
import { listen } from '../../src/server/http.js';
import { MirrorError, fetchMeta, mirror } from '../../src/server/mirror.js';
import { appendRandomCommits, rng } from '../helpers/common.js';

const SRC_OPTS = { maxSegmentSize: 64 * 1024, offsetIndexIntervalBytes: 1024 };
/** `MirrorResult.logOptions` when both are passed. */
const GIVEN = { ...SRC_OPTS, from: { maxSegmentSize: 'given', offsetIndexIntervalBytes: 'given' } };
const TOKEN = 'mirror-token';

const tmpDirs: string[] = [];
const servers: http.Server[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  tmpDirs.push(d);
  return d;
}
async function serve(options: Parameters<typeof listen>[0]): Promise<string> {
  const s = await listen({ ...options, host: '127.0.0.1', port: 0 });
  servers.push(s.server);
  return s.url;
}
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Random flushed commits (seeded), shaped for these tests. */
function appendCommits(log: Commitlog, count: number, rand: () => number): void {
  appendRandomCommits(log, count, rand, { maxRecords: 5, minLen: 16, maxLen: 600 });
}

const LOG_FILE = /\.stdb\.(log|ofs)$/;

/** Same set of segment (and, unless `segmentsOnly`, index) files, with identical bytes. */
function expectIdentical(src: string, dst: string, segmentsOnly = false): void {
  const pick = (d: string): string[] =>
    fs
      .readdirSync(d)
      .filter((n) => (segmentsOnly ? n.endsWith('.stdb.log') : LOG_FILE.test(n)))
      .sort();
  const names = pick(src);
  expect(names.length).toBeGreaterThan(0);
  expect(pick(dst)).toEqual(names);
  for (const n of names) {
    const a = fs.readFileSync(path.join(src, n));
    const b = fs.readFileSync(path.join(dst, n));
    expect(b.length, `${n} length`).toBe(a.length);
    expect(a.equals(b), `${n} bytes differ`).toBe(true);
  }
}

function streamBytes(dir: string): number {
  return existingSegmentOffsets(dir).reduce((sum, o) => sum + fs.statSync(path.join(dir, segmentFileName(o))).size, 0);
}

let src: string;
let srcCommits: { offset: number; n: number }[];
let maxOffset: number;
let url: string;

beforeAll(async () => {
  src = tmp();
  const log = Commitlog.open(src, SRC_OPTS);
  appendCommits(log, 1500, rng(0xc0ffee));
  log.flushAndSync();
  maxOffset = log.maxCommittedOffset()!;
  log.close();
  srcCommits = [...commits(src)].map((c) => ({ offset: c.minTxOffset, n: c.n }));
  url = await serve({ dir: src });
});

describe('mirror over HTTP', () => {
  it('a full mirror is byte-identical, segments and index files', async () => {
    expect(existingSegmentOffsets(src).length).toBeGreaterThan(10);
    const dst = tmp();
    const progress: number[] = [];
    const result = await mirror(url, dst, { logOptions: SRC_OPTS, onProgress: (r) => progress.push(r.start) });
    expect(result).toEqual({ from: 0, commits: srcCommits.length, bytes: streamBytes(src), lastOffset: maxOffset, logOptions: GIVEN });
    expect(progress).toEqual(srcCommits.map((c) => c.offset));
    expectIdentical(src, dst);
  });

  it('mirroring into a complete copy transfers nothing and changes nothing', async () => {
    const dst = tmp();
    await mirror(url, dst, { logOptions: SRC_OPTS });
    const again = await mirror(url, dst, { logOptions: SRC_OPTS });
    expect(again).toEqual({ from: maxOffset + 1, commits: 0, bytes: 0, lastOffset: maxOffset, logOptions: GIVEN });
    expectIdentical(src, dst);
  });

  it('resumes after the prefix the destination holds (mid-segment and at a segment boundary)', async () => {
    const segs = existingSegmentOffsets(src);
    const midSegment = srcCommits.find((c) => c.offset > segs[4]! + 3)!.offset;
    for (const cut of [midSegment, segs[7]!]) {
      const dst = tmp();
      const w = StreamWriter.create(dst, SRC_OPTS);
      await w.appendAll(streamCommits(src, { end: cut }));
      await w.syncAll();
      await w.close();
      const before = streamBytes(dst);
      const result = await mirror(url, dst, { logOptions: SRC_OPTS });
      expect(result.from).toBe(cut);
      expect(result.commits).toBe(srcCommits.filter((c) => c.offset >= cut).length);
      // only the missing part went over the wire
      expect(result.bytes).toBe(streamBytes(src) - before);
      expectIdentical(src, dst);
    }
  });

  it('a torn tail in the destination is refused without trim and cut with trim', async () => {
    const dst = tmp();
    await mirror(url, dst, { logOptions: SRC_OPTS });
    // Cut the last segment inside its last commit, as a kill during a write leaves it.
    const segs = existingSegmentOffsets(dst);
    const last = path.join(dst, segmentFileName(segs[segs.length - 1]!));
    fs.truncateSync(last, fs.statSync(last).size - 7);
    const torn = fs.readFileSync(last);
    await expect(mirror(url, dst, { logOptions: SRC_OPTS })).rejects.toBeInstanceOf(InvalidDataError);
    expect(fs.readFileSync(last).equals(torn)).toBe(true); // refused: nothing touched
    const result = await mirror(url, dst, { logOptions: SRC_OPTS, trim: true });
    expect(result.commits).toBe(1);
    expectIdentical(src, dst);
  });

  it('resumes from what a kill between creating a segment and writing its header leaves', async () => {
    // StreamWriter creates the segment file, then appends the 10-byte header: a SIGKILL in between
    // leaves an empty (or 1–9-byte) newest segment. The issue requires a restarted mirror to finish.
    const segs = existingSegmentOffsets(src);
    for (const len of [0, 4, 10]) {
      const dst = tmp();
      const w = StreamWriter.create(dst, SRC_OPTS);
      await w.appendAll(streamCommits(src, { end: segs[3]! }));
      await w.syncAll();
      await w.close();
      const header = fs.readFileSync(path.join(src, segmentFileName(segs[3]!))).subarray(0, len);
      fs.writeFileSync(path.join(dst, segmentFileName(segs[3]!)), header);
      await mirror(url, dst, { logOptions: SRC_OPTS, trim: true });
      expectIdentical(src, dst, true);
    }
  });
});

describe('mirror with no options: the source\'s, derived from its index files (issue 17 §5)', () => {
  const DERIVED = { ...SRC_OPTS, from: { maxSegmentSize: 'index', offsetIndexIntervalBytes: 'index' } };

  it('over HTTP: byte-identical, index files included', async () => {
    const dst = tmp();
    const result = await mirror(url, dst);
    expect(result.logOptions).toEqual(DERIVED);
    expectIdentical(src, dst);
  });

  it('from a directory: byte-identical, index files included', async () => {
    const dst = tmp();
    expect((await mirror(src, dst)).logOptions).toEqual(DERIVED);
    expectIdentical(src, dst);
  });

  it('a missing source directory is refused and nothing is created', async () => {
    const missing = path.join(tmp(), 'missing');
    const dst = path.join(tmp(), 'dst');
    await expect(mirror(missing, dst)).rejects.toThrow(NotFoundError);
    expect(fs.existsSync(missing)).toBe(false);
    expect(fs.existsSync(dst)).toBe(false);
  });
});

describe('mirror from a local directory', () => {
  it('is byte-identical, and resumes too', async () => {
    const dst = tmp();
    const result = await mirror(src, dst, { logOptions: SRC_OPTS });
    expect(result).toEqual({ from: 0, commits: srcCommits.length, bytes: streamBytes(src), lastOffset: maxOffset, logOptions: GIVEN });
    expectIdentical(src, dst);

    const partial = tmp();
    const cut = srcCommits[700]!.offset;
    const w = StreamWriter.create(partial, SRC_OPTS);
    await w.appendAll(streamCommits(src, { end: cut }));
    await w.close();
    expect((await mirror(src, partial, { logOptions: SRC_OPTS })).from).toBe(cut);
    expectIdentical(src, partial);
  });
});

describe('mirror --follow', () => {
  /** Runs a follow mirror while a writer keeps appending to `live`; stops it once it has everything. */
  async function followWhileAppending(source: (live: string) => Promise<string> | string): Promise<void> {
    const live = tmp();
    const dst = tmp();
    const log = Commitlog.open(live, SRC_OPTS);
    const rand = rng(99);
    appendCommits(log, 100, rand);
    const abort = new AbortController();
    let last = -1;
    const running = mirror(await source(live), dst, {
      follow: true,
      signal: abort.signal,
      logOptions: SRC_OPTS,
      followPollMs: 20,
      onProgress: (r) => (last = r.end - 1),
    });
    let settled = false;
    void running.then(
      () => (settled = true),
      () => (settled = true),
    );
    try {
      for (let i = 0; i < 40; i++) {
        appendCommits(log, 10, rand);
        await sleep(5);
      }
      const target = log.maxCommittedOffset()!;
      const deadline = Date.now() + 10_000;
      while (last < target && Date.now() < deadline) await sleep(20);
      expect(last).toBe(target);
      expect(settled).toBe(false); // still following
      abort.abort();
      const result = await running;
      expect(result.lastOffset).toBe(target);
    } finally {
      abort.abort();
      log.close();
    }
    expect(existingSegmentOffsets(live).length).toBeGreaterThan(5);
    expectIdentical(live, dst);
  }

  it('over HTTP: copies commits flushed while it runs, then stops on abort', async () => {
    await followWhileAppending((live) => serve({ dir: live, followPollMs: 20 }));
  });

  it('from a local directory', async () => {
    await followWhileAppending((live) => live);
  });
});

describe('token', () => {
  let secured: string;
  beforeAll(async () => {
    secured = await serve({ dir: src, token: TOKEN });
  });

  it('a missing or wrong token is a MirrorError with status 401, and nothing is written', async () => {
    for (const token of [undefined, 'wrong', TOKEN.slice(1), `${TOKEN}x`]) {
      const dst = tmp();
      const err = await mirror(secured, dst, { token }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MirrorError);
      expect((err as MirrorError).status).toBe(401);
      expect((err as MirrorError).message).toMatch(/401/);
      expect(existingSegmentOffsets(dst)).toEqual([]);
      await expect(fetchMeta(secured, token)).rejects.toMatchObject({ status: 401 });
    }
  });

  it('the right token mirrors', async () => {
    const dst = tmp();
    const meta = await fetchMeta(secured, TOKEN);
    expect(meta.maxCommittedOffset).toBe(maxOffset);
    const result = await mirror(secured, dst, { token: TOKEN, logOptions: SRC_OPTS });
    expect(result.lastOffset).toBe(maxOffset);
    expectIdentical(src, dst);
  });

  it('an unreachable server is an error, not a hang', async () => {
    const s = await listen({ dir: src, host: '127.0.0.1', port: 0 });
    const dead = s.url;
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
    await expect(mirror(dead, tmp())).rejects.toThrow(/ECONNREFUSED/);
  });
});
