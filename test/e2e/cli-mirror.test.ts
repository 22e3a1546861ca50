/**
 * `clog serve` and `clog mirror` as a user runs them (issue 4): the real binary in child processes over
 * loopback. A mirror SIGKILLed at seeded moments and restarted with --trim must end byte-identical.
 * Needs the build (`npm test` builds first): dist/src/cli/main.js.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commitlog, commits, existingSegmentOffsets, segmentFileName } from '../../src/index.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/cli/main.js');
/** ~40 MB in 4 MiB segments: long enough to kill a mirror mid-transfer, in different segments. */
const BIG = { maxSegmentSize: 4 * 1024 * 1024, records: 40_000, recordLen: 1000, perCommit: 8 };
const TOKEN = 'cli-s3cret';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();
const tmpDirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  tmpDirs.push(d);
  return d;
}

function start(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Collects the output of a started child until it exits (killed after `timeoutMs` so nothing hangs). */
function finish(child: ChildProcess, timeoutMs = 30_000): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function clog(...args: string[]): Promise<Run> {
  return finish(start(args));
}

/** Starts `clog serve`, resolving with its URL from the first stdout line. */
async function serve(dir: string, ...extra: string[]): Promise<{ child: ChildProcess; url: string; firstLine: string }> {
  const child = start(['serve', dir, '--port', '0', ...extra]);
  let out = '';
  const firstLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed nothing: ${out}`)), 10_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(firstLine);
  return { child, url: m ? m[1]! : '', firstLine };
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

function segmentBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return existingSegmentOffsets(dir).reduce((n, o) => n + fs.statSync(path.join(dir, segmentFileName(o))).size, 0);
}

function expectSameSegments(src: string, dst: string): void {
  const segs = existingSegmentOffsets(src);
  expect(existingSegmentOffsets(dst)).toEqual(segs);
  for (const o of segs) {
    const a = fs.readFileSync(path.join(src, segmentFileName(o)));
    const b = fs.readFileSync(path.join(dst, segmentFileName(o)));
    expect(b.length, `segment ${o} length`).toBe(a.length);
    expect(a.equals(b), `segment ${o} bytes`).toBe(true);
  }
}

/** Every entry of every index file in `dir` must name a commit that starts at the recorded byte (SPEC §3). */
function expectValidIndexes(dir: string): void {
  for (const o of existingSegmentOffsets(dir)) {
    const ofs = path.join(dir, segmentFileName(o).replace(/\.log$/, '.ofs'));
    if (!fs.existsSync(ofs)) continue;
    const idx = fs.readFileSync(ofs);
    const seg = fs.readFileSync(path.join(dir, segmentFileName(o)));
    for (let p = 0; p + 16 <= idx.length; p += 16) {
      const key = Number(idx.readBigUInt64LE(p));
      const pos = Number(idx.readBigUInt64LE(p + 8));
      if (pos === 0) break; // the zero-filled unused tail
      expect(pos + 22).toBeLessThanOrEqual(seg.length);
      expect(Number(seg.readBigUInt64LE(pos)), `index of segment ${o} entry ${p / 16}`).toBe(key);
    }
  }
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32);
}

function writeLog(dir: string, records: number, recordLen: number, perCommit: number, maxSegmentSize: number): number {
  const log = Commitlog.open(dir, { maxSegmentSize });
  const rand = rng(records);
  const rec = new Uint8Array(recordLen);
  for (let i = 0; i < records; i++) {
    for (let j = 0; j < rec.length; j += 4) rec[j] = (rand() * 256) | 0;
    log.append(rec);
    if (i % perCommit === perCommit - 1) log.flush();
  }
  log.flushAndSync();
  const max = log.maxCommittedOffset()!;
  log.close();
  return max;
}

let big: string;
let bigMax: number;
let small: string;
let server: { child: ChildProcess; url: string; firstLine: string };

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does) first`);
  big = tmp();
  bigMax = writeLog(big, BIG.records, BIG.recordLen, BIG.perCommit, BIG.maxSegmentSize);
  small = tmp();
  writeLog(small, 2000, 100, 4, 64 * 1024);
  server = await serve(big);
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('clog serve', () => {
  it('prints `listening on http://HOST:PORT` first, then serves', async () => {
    expect(server.firstLine).toMatch(/^listening on http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const meta = await get(`${server.url}/v1/meta`);
    expect(meta.status).toBe(200);
    expect(JSON.parse(meta.body)).toMatchObject({ minCommittedOffset: 0, maxCommittedOffset: bigMax });
  });

  it('stops on SIGTERM even with a follow stream open', async () => {
    const s = await serve(small);
    const done = finish(s.child, 10_000);
    const req = http.get(`${s.url}/v1/log?follow=1`, { agent: false }, (res) => res.resume());
    req.on('error', () => undefined);
    await sleep(200);
    s.child.kill('SIGTERM');
    const run = await done;
    expect(run.signal).toBe(null);
    expect(run.code).toBe(0);
  });
});

describe('clog mirror', () => {
  it('copies a served log: exit 0, identical segments, a summary line', async () => {
    const dst = path.join(tmp(), 'replica'); // does not exist yet
    const run = await clog('mirror', server.url, dst, '--max-segment-size', String(BIG.maxSegmentSize));
    expect(run.stderr).not.toMatch(/^clog:/m);
    expect(run.code).toBe(0);
    const commitCount = [...commits(big)].length;
    expect(run.stdout).toMatch(new RegExp(`mirrored ${commitCount.toLocaleString('en-US')} commits`));
    expectSameSegments(big, dst);
    expectValidIndexes(dst);
    // Mirroring again transfers nothing; --json gives the machine-readable summary.
    const again = await clog('mirror', server.url, dst, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout.trim())).toMatchObject({ from: bigMax + 1, commits: 0, lastOffset: bigMax });
  });

  it('copies a local directory', async () => {
    const dst = tmp();
    const run = await clog('mirror', small, dst);
    expect(run.code).toBe(0);
    expectSameSegments(small, dst);
  });

  it('SIGKILLed at seeded moments and restarted with --trim, it ends byte-identical', async () => {
    const dst = tmp();
    const total = segmentBytes(big);
    const rand = rng(0x4b111);
    let midTransferKills = 0;
    for (let round = 0; round < 6; round++) {
      const child = start(['mirror', server.url, dst, '--trim']);
      const run = finish(child);
      const before = segmentBytes(dst);
      if (round === 0) {
        // a plain random short delay: may land before the first byte arrives
        await sleep(Math.floor(rand() * 150));
      } else {
        // after a seeded share of what is still missing has arrived (bounded wait)
        const target = before + (total - before) * (0.1 + 0.5 * rand());
        const deadline = Date.now() + 10_000;
        while (segmentBytes(dst) < target && child.exitCode === null && Date.now() < deadline) await sleep(2);
      }
      child.kill('SIGKILL');
      const r = await run;
      const after = segmentBytes(dst);
      if (r.signal === 'SIGKILL' && after > before && after < total) midTransferKills++;
    }
    expect(midTransferKills).toBeGreaterThanOrEqual(3);
    const last = await clog('mirror', server.url, dst, '--trim');
    expect(last.stderr).not.toMatch(/^clog:/m);
    expect(last.code).toBe(0);
    expectSameSegments(big, dst);
    expectValidIndexes(dst);
    expect([...commits(dst)].length).toBe([...commits(big)].length);
  });

  it('a refused token exits 2 with a one-line error', async () => {
    const secured = await serve(small, '--token', TOKEN);
    for (const extra of [[], ['--token', 'wrong']]) {
      const dst = tmp();
      const run = await clog('mirror', secured.url, dst, ...extra);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const lines = run.stderr.split('\n').filter((l) => l.length > 0);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^clog: .*401/);
      expect(existingSegmentOffsets(dst)).toEqual([]);
    }
    const ok = await clog('mirror', secured.url, tmp(), '--token', TOKEN);
    expect(ok.code).toBe(0);
    secured.child.kill('SIGTERM');
  });

  it('an unreachable server exits 2 with a one-line error', async () => {
    const s = await serve(small);
    s.child.kill('SIGTERM');
    await new Promise((resolve) => s.child.once('exit', resolve));
    const run = await clog('mirror', s.url, tmp());
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^clog: /);
  });
});

describe('usage', () => {
  it('usage errors exit 2 and write nothing to stdout', async () => {
    const dst = path.join(tmp(), 'never-created');
    const cases: string[][] = [
      [],
      ['frobnicate'],
      ['mirror'],
      ['mirror', server.url],
      ['mirror', server.url, dst, '--bogus'],
      ['mirror', server.url, dst, '--max-segment-size', 'big'],
      ['mirror', server.url, dst, '--offset-index-interval-bytes', '-1'],
      ['serve'],
      ['serve', small, '--port', 'abc'],
      ['serve', small, '--port', '70000'],
      ['serve', small, '--bogus'],
    ];
    const runs = await Promise.all(cases.map((args) => clog(...args)));
    runs.forEach((run, i) => {
      expect(run.code, cases[i]!.join(' ')).toBe(2);
      expect(run.stdout, cases[i]!.join(' ')).toBe('');
      expect(run.stderr.length, cases[i]!.join(' ')).toBeGreaterThan(0);
    });
    expect(fs.existsSync(dst)).toBe(false);
  });

  it('--help exits 0; the commands show examples', async () => {
    const root = await clog('--help');
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/serve/);
    expect(root.stdout).toMatch(/mirror/);
    for (const cmd of ['mirror', 'serve']) {
      const run = await clog(cmd, '--help');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/Examples:/);
      expect(run.stdout).toMatch(new RegExp(`clog ${cmd} `));
    }
  });
});
