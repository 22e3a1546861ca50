// Reading an archive in place (issue 14): S3Repo and `clog … s3://` against the run's real radosgw
// (test/s3/global-setup.ts), compared with the same commands on the local directory. Never a mock.
// S3Repo runs its S3 client in a worker thread compiled to dist/: build first (npx tsc -p tsconfig.json).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useS3Env } from './rgw.js';
import { archiveLog, encodeManifest, makeS3Client, type Manifest, type S3Target } from '../../src/api/archive.js';
import { crc32c } from '../../src/api/codec.js';
import { compressLog } from '../../src/api/ops.js';
import { Commitlog } from '../../src/index.js';
// The built package: S3Repo's worker is dist/src/archive/s3-worker.js, and the maintenance functions
// must come from the same build (they recognise FsRepo by class).
import { S3Repo } from '../../dist/src/api/archive.js';
import { dumpCommits } from '../../dist/src/api/ops.js';
import { ReadOnlyError } from '../../dist/src/index.js';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const FIXTURES = ['spacetimedb-v1.2', 'spacetimedb-v2.6'];
const bucket = 'clog-s3repo-test';
/** Prefixes are per run: archiveLog continues an archive it finds, and a reused server may hold one. */
const RUN = `r${Date.now().toString(36)}`;

let client: S3Client;
let endpoint: string;
const temps: string[] = [];

beforeAll(async () => {
  endpoint = (await useS3Env()).endpoint;
  client = makeS3Client(endpoint);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}, 180_000);

afterAll(() => {
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

function clog(...args: string[]): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env }, maxBuffer: 256 * 1024 * 1024 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** The same command on the directory and on the archive: same stdout, same exit code. */
function same(dir: string, url: string, args: string[], after: string[] = []): string {
  const local = clog(...args, dir, ...after);
  const remote = clog(...args, url, ...after, '--endpoint', endpoint);
  expect(remote.stdout, `clog ${args.join(' ')} s3:// (stderr: ${remote.stderr})`).toBe(local.stdout);
  expect(remote.status).toBe(local.status);
  return local.stdout;
}

/** Every table of an SQLite file, rows in rowid order; `_stdb_meta` without its timestamp. */
function sqliteContents(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    const names = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[];
    for (const { name } of names) {
      const rows = db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
      out[name] = name === '_stdb_meta' ? rows.filter((r) => r.key !== 'updated_at') : rows;
    }
    return out;
  } finally {
    db.close();
  }
}

function url(prefix: string): string {
  return `s3://${bucket}/${RUN}/${prefix}`;
}

describe('clog read commands on s3:// give what they give on the directory', () => {
  for (const fx of FIXTURES) {
    it(`${fx}: info, verify, dump, tail, tables, rows, export, changes`, async () => {
      const dir = path.join(ROOT, 'test/fixtures', fx, 'clog');
      const prefix = `fx/${fx}`;
      await archiveLog(dir, { bucket, prefix: `${RUN}/${prefix}` }, { client });
      const u = url(prefix);

      same(dir, u, ['verify']);
      same(dir, u, ['dump']);
      same(dir, u, ['dump', '--records']);
      same(dir, u, ['dump', '--txdata']);
      same(dir, u, ['dump', '--from', '3', '--to', '5']);
      same(dir, u, ['tail', '-n', '3']);
      same(dir, u, ['tables']);
      const tables = JSON.parse(same(dir, u, ['tables', '--json'])) as { tables: { name: string; rows: number }[] };
      const table = tables.tables.find((t) => t.rows > 0 && !t.name.startsWith('st_')) ?? tables.tables.find((t) => t.rows > 0)!;
      same(dir, u, ['rows'], [table.name, '--json']);
      same(dir, u, ['changes']);
      same(dir, u, ['changes', '--format', 'debezium']);

      // info: the same segments, commits and offsets; sizes are the archive's, the name its URL.
      const local = JSON.parse(clog('info', dir, '--json').stdout);
      const remote = JSON.parse(clog('info', u, '--endpoint', endpoint, '--json').stdout);
      expect(remote.dir).toBe(u);
      const strip = (s: Record<string, unknown>) => ({ ...s, bytes: 0, allocated: 0, index: null });
      expect(remote.segments.map(strip)).toEqual(local.segments.map(strip));
      expect(remote.totals.commits).toBe(local.totals.commits);
      expect(remote.totals.size).toBe(local.totals.size);
      expect(clog('info', u, '--endpoint', endpoint).stdout).toMatch(new RegExp(`^${u}: 1 segment`));

      const out = tmp('clog-s3x-');
      const a = clog('export', dir, '--sqlite', path.join(out, 'local.sqlite'));
      const b = clog('export', u, '--endpoint', endpoint, '--sqlite', path.join(out, 'remote.sqlite'));
      expect(b.status, b.stderr).toBe(0);
      expect(b.stdout.replace('remote.sqlite', 'local.sqlite')).toBe(a.stdout);
      expect(sqliteContents(path.join(out, 'remote.sqlite'))).toEqual(sqliteContents(path.join(out, 'local.sqlite')));
    }, 180_000);
  }

  it('follow modes and --endpoint on a directory are refused with a clear error', () => {
    const u = url('fx/spacetimedb-v1.2');
    for (const args of [['tail', u, '-f'], ['changes', u, '--follow'], ['export', u, '--sqlite', '/tmp/never.sqlite', '--follow']]) {
      const r = clog(...args, '--endpoint', endpoint);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--follow reads a directory being written; an s3:\/\/ archive is a snapshot/);
    }
    const r = clog('dump', path.join(ROOT, 'test/fixtures/spacetimedb-v1.2/clog'), '--endpoint', endpoint);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--endpoint applies to s3:\/\/ sources/);
  });

  it('an archive without a manifest is named', () => {
    const r = clog('dump', url('nothing-here'), '--endpoint', endpoint);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`no archive manifest at ${url('nothing-here')}`);
  });
});

/** A log of `commits` commits of random 200-byte records in 8 KiB segments (about 35 commits each). */
function writeLog(dir: string, from: number, commits: number): void {
  const log = Commitlog.open(dir, { maxSegmentSize: 8192, maxRecordsInCommit: 1 });
  for (let i = 0; i < commits; i++) log.appendMaybeFlush(randomBytes(200 + ((from + i) % 7)));
  log.flushAndSync();
  log.close();
}

describe('a generated multi-segment log', () => {
  let dir: string;
  const prefix = 'gen';
  let manifest: Manifest;

  beforeAll(async () => {
    dir = tmp('clog-s3gen-');
    // Two archive runs, so that a segment has two parts (the second run's delta).
    writeLog(dir, 0, 300);
    await archiveLog(dir, { bucket, prefix: `${RUN}/${prefix}` }, { client });
    writeLog(dir, 300, 20);
    manifest = (await archiveLog(dir, { bucket, prefix: `${RUN}/${prefix}` }, { client })).manifest;
    expect(manifest.segments.length).toBeGreaterThan(5);
    expect(manifest.segments.some((s) => s.parts.length === 2)).toBe(true);
  }, 180_000);

  it('reads identically through the CLI, from the start and from an offset inside a later part', () => {
    const u = url(prefix);
    same(dir, u, ['verify']);
    same(dir, u, ['dump', '--records']);
    same(dir, u, ['tail', '-n', '25']);
    const split = manifest.segments.find((s) => s.parts.length === 2)!;
    same(dir, u, ['dump', '--from', String(split.parts[1]!.minTx + 1)]);
    same(dir, u, ['dump', '--from', '100', '--to', '120']);
    // NODE_DEBUG=commitlog makes clog say what the archive cost: a full dump, one GET per part + the manifest.
    const r = spawnSync(process.execPath, [CLI, 'dump', u, '--endpoint', endpoint], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'commitlog' } });
    const m = /: (\d+) GET requests, (\d+) bytes/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const parts = manifest.segments.reduce((n, s) => n + s.parts.length, 0);
    expect(Number(m![1])).toBeLessThanOrEqual(parts + 1);
    console.log(`clog dump ${u}: ${m![1]} GETs, ${m![2]} bytes (${parts} parts)`);
  }, 120_000);

  it('a full dump costs about one GET per block: the block cache works', () => {
    const bytes = manifest.segments.reduce((n, s) => n + s.size, 0);
    const parts = manifest.segments.reduce((n, s) => n + s.parts.length, 0);
    const local = [...dumpCommits(dir, { records: true })];

    // Default 1 MiB blocks: the whole log (a few hundred KiB) is one GET per part, plus the manifest.
    const big = S3Repo.open(url(prefix), { endpoint });
    expect([...dumpCommits(big, { records: true })]).toEqual(local);
    expect(big.stats.requests).toBeLessThanOrEqual(parts + 1);
    big.close();

    // 4 KiB blocks: ~bytes/4096 GETs, far fewer than the traversal's reads; a second pass that fits
    // the cache costs none.
    const blockBytes = 4096;
    const small = S3Repo.open(url(prefix), { endpoint, blockBytes, cacheBlocks: Math.ceil(bytes / blockBytes) + parts });
    expect([...dumpCommits(small, { records: true })]).toEqual(local);
    const first = small.stats.requests;
    const bound = Math.ceil(bytes / blockBytes) + parts + 2;
    expect(first).toBeLessThanOrEqual(bound);
    expect(small.stats.bytes).toBeLessThanOrEqual(bytes + 64 * 1024);
    [...dumpCommits(small)];
    expect(small.stats.requests).toBe(first);
    console.log(`GETs for a full dump of ${bytes} bytes in ${manifest.segments.length} segments / ${parts} parts: ` +
      `${big.stats.requests} with 1 MiB blocks; ${first} with 4 KiB blocks (bound ${bound}); second pass +${small.stats.requests - first}`);
    small.close();
  }, 120_000);

  it('a larger log at the default block size: GETs ≤ bytes / 1 MiB + segments + 1', async () => {
    const big = tmp('clog-s3big-');
    const log = Commitlog.open(big, { maxSegmentSize: 2 * 1024 * 1024, maxRecordsInCommit: 1 });
    for (let i = 0; i < 2000; i++) log.appendMaybeFlush(randomBytes(4000));
    log.flushAndSync();
    log.close();
    const m = (await archiveLog(big, { bucket, prefix: `${RUN}/big` }, { client })).manifest;
    const bytes = m.segments.reduce((n, s) => n + s.size, 0);
    const repo = S3Repo.open(url('big'), { endpoint });
    expect([...dumpCommits(repo)]).toEqual([...dumpCommits(big)]);
    const bound = Math.ceil(bytes / repo.blockBytes) + m.segments.length + 1;
    console.log(`GETs for a full dump of ${bytes} bytes in ${m.segments.length} segments, 1 MiB blocks: ${repo.stats.requests} (bound ${bound}; the traversal reads 256 KiB chunks)`);
    expect(repo.stats.requests).toBeLessThanOrEqual(bound);
    repo.close();
  }, 120_000);

  it('is read-only: every write is refused with a typed error', () => {
    const repo = S3Repo.open(url(prefix), { endpoint });
    const o = repo.existingOffsets()[0]!;
    expect(() => repo.createSegment(1_000_000)).toThrow(ReadOnlyError);
    expect(() => repo.openSegmentWriter(o)).toThrow(ReadOnlyError);
    expect(() => repo.removeSegment(o)).toThrow(ReadOnlyError);
    expect(() => repo.compressSegment(o)).toThrow(ReadOnlyError);
    expect(() => repo.createOffsetIndex(o, 10)).toThrow(ReadOnlyError);
    expect(() => repo.getOffsetIndex(o, true)).toThrow(ReadOnlyError);
    const f = repo.openSegmentReader(o);
    expect(() => f.append(new Uint8Array(1), 0, 1)).toThrow(/read-only/);
    expect(() => f.truncate(0)).toThrow(ReadOnlyError);
    repo.close();
  });

  it('compressed segments (zstd objects, hand-built v2 manifest) read through their seek table', async () => {
    const zdir = tmp('clog-s3z-');
    for (const n of fs.readdirSync(dir).filter((n) => n.endsWith('.stdb.log'))) fs.copyFileSync(path.join(dir, n), path.join(zdir, n));
    const compressed = compressLog(zdir);
    expect(compressed.segments.length).toBeGreaterThan(0);
    const zprefix = 'gen-zstd';
    const segments = [];
    for (const s of manifest.segments) {
      const file = path.join(zdir, `${String(s.offset).padStart(20, '0')}.stdb.log`);
      const body = fs.readFileSync(file);
      const isZstd = body.readUInt32LE(0) === 0xfd2fb528;
      if (!isZstd) {
        // The plain (newest) segment keeps its parts: copy them under the new prefix.
        for (const p of s.parts) {
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${RUN}/${zprefix}/${p.key}`, Body: body.subarray(p.start, p.end) }));
        }
        segments.push(s);
        continue;
      }
      const key = `segments/${String(s.offset).padStart(20, '0')}/zstd`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${RUN}/${zprefix}/${key}`, Body: body }));
      const commits = s.parts.reduce((n, p) => n + p.commits, 0);
      const withTx = s.parts.filter((p) => p.minTx >= 0);
      segments.push({
        offset: s.offset,
        size: s.size,
        parts: [],
        zstd: { key, bytes: body.length, crc32c: crc32c(body), keepCompressed: true, commits, minTx: withTx[0]!.minTx, maxTx: withTx[withTx.length - 1]!.maxTx },
      });
    }
    const m: Manifest = { version: 2, generation: 1, segments };
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${RUN}/${zprefix}/manifest.json`, Body: encodeManifest(m) }));

    const u = url(zprefix);
    same(zdir, u, ['verify']);
    same(zdir, u, ['dump', '--records']);
    same(dir, u, ['dump', '--records']);
    same(zdir, u, ['dump', '--from', '150', '--to', '160']);
    const info = JSON.parse(clog('info', u, '--endpoint', endpoint, '--json').stdout);
    expect(info.totals.compressedSegments).toBe(segments.filter((s) => 'zstd' in s).length);
    expect(info.totals.compressedSegments).toBeGreaterThan(3);

    // Opening costs no GET (export's progress reopens every segment); a manifest size the seek table
    // contradicts is found at the first read.
    const lying = { ...m, segments: m.segments.map((s, i) => (i === 1 ? { ...s, size: s.size + 1 } : s)) };
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${RUN}/${zprefix}-lying/manifest.json`, Body: encodeManifest(lying) }));
    for (const s of segments) {
      const body = fs.readFileSync(path.join(zdir, `${String(s.offset).padStart(20, '0')}.stdb.log`));
      const objects = s.zstd ? [{ key: s.zstd.key, bytes: body }] : s.parts.map((p) => ({ key: p.key, bytes: body.subarray(p.start, p.end) }));
      for (const o of objects) await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${RUN}/${zprefix}-lying/${o.key}`, Body: o.bytes }));
    }
    const lyingRepo = S3Repo.open(url(`${zprefix}-lying`), { endpoint });
    const before = lyingRepo.stats.requests;
    for (const o of lyingRepo.existingOffsets()) lyingRepo.openSegmentReader(o).size();
    expect(lyingRepo.stats.requests).toBe(before);
    lyingRepo.close();
    const bad = clog('dump', url(`${zprefix}-lying`), '--endpoint', endpoint);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(`segment ${segments[1]!.offset}: compressed segment decompresses to ${segments[1]!.size} bytes, expected ${segments[1]!.size + 1}`);

    const repo = S3Repo.open(u, { endpoint });
    expect([...dumpCommits(repo, { records: true })]).toEqual([...dumpCommits(dir, { records: true })]);
    // One block per zstd object (each is far below 1 MiB), one per plain part, the manifest.
    expect(repo.stats.requests).toBeLessThanOrEqual(segments.length + 2);
    console.log(`GETs for a full dump with ${info.totals.compressedSegments} zstd objects of ${segments.length} segments: ${repo.stats.requests}`);
    repo.close();
  }, 180_000);
});

describe('damage and failures are typed errors naming the object', () => {
  let target: S3Target;
  let manifest: Manifest;
  const prefix = 'damage';

  beforeAll(async () => {
    const dir = tmp('clog-s3dmg-');
    writeLog(dir, 0, 120);
    target = { bucket, prefix: `${RUN}/${prefix}` };
    manifest = (await archiveLog(dir, target, { client })).manifest;
  }, 120_000);

  it('a deleted part', async () => {
    const part = manifest.segments[1]!.parts[0]!;
    const body = await (await client.send(new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: bucket, Key: `${RUN}/${prefix}/${part.key}` }))).Body!.transformToByteArray();
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${RUN}/${prefix}/${part.key}` }));
    try {
      for (const cmd of ['dump', 'verify']) {
        const r = clog(cmd, url(prefix), '--endpoint', endpoint);
        expect(r.status, r.stderr).not.toBe(0);
        expect(r.stderr + r.stdout).toContain(`${RUN}/${prefix}/${part.key}`);
      }
    } finally {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${RUN}/${prefix}/${part.key}`, Body: body }));
    }
  });

  it('a part of the wrong length, and one with the right length but other bytes', async () => {
    const part = manifest.segments[2]!.parts[0]!;
    const key = `${RUN}/${prefix}/${part.key}`;
    const size = part.end - part.start;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(size + 10, 1) }));
    let r = clog('dump', url(prefix), '--endpoint', endpoint);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${key}: ${size + 10} bytes, the manifest says ${size}`);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(size, 1) }));
    r = clog('dump', url(prefix), '--endpoint', endpoint);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${key}: CRC32C mismatch`);
  });

  it('offsets beyond Number.MAX_SAFE_INTEGER in a manifest are refused', async () => {
    const p = 'unsafe';
    const json = `{"version":2,"generation":1,"segments":[{"offset":9007199254740993,"size":10,"parts":[{"key":"k","start":0,"end":10,"crc32c":0,"commits":0,"minTx":-1,"maxTx":-1}]}]}`;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${RUN}/${p}/manifest.json`, Body: json }));
    expect(() => S3Repo.open(url(p), { endpoint })).toThrow(/offset is not an integer/);
    const r = clog('info', url(p), '--endpoint', endpoint);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/segment #0 offset is not an integer \[INVALID_DATA\]/);
  });

  it('a server that never answers is a timeout (IoError ETIMEDOUT), not a hang', async () => {
    // Connections are accepted by the kernel's backlog while this thread blocks; nothing is answered.
    const server = net.createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      let err: unknown;
      try {
        S3Repo.open(url('any'), { endpoint: `http://127.0.0.1:${port}`, timeoutMs: 500 });
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'IO', errno: 'ETIMEDOUT' });
      expect(String((err as Error).message)).toMatch(/manifest\.json: no answer within 500 ms/);
    } finally {
      server.close();
    }
  });
});
