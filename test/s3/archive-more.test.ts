// Generated multi-segment logs against the run's real radosgw: byte-for-byte round trips (plain and
// --compress, and segments compressed on disk), --at for many N, damage named, incremental uploads
// counted, the directory never written, restore leaving no lock file.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listKeys, useBucket } from './bucket.js';
import { appendCommits, plainFiles, prefixAt, segFiles, tmpDir, txBounds } from './log-gen.js';
import { archiveLog, makeS3Client, readManifest, restoreLog, zstdKey, type S3Target } from '../../src/api/archive.js';
import { compressLog } from '../../src/maintenance/compress.js';
import { Commitlog } from '../../src/index.js';

const tb = useBucket('clog-archive-more');
const bucket = tb.name;
let client: S3Client;
beforeAll(() => {
  client = tb.client;
});

let prefixes = 0;
function target(tag: string): S3Target {
  return { bucket, prefix: `${tag}-${++prefixes}` };
}

const keys = (t: S3Target) => listKeys(tb, t);

async function getObject(t: S3Target, key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${t.prefix}/${key}` }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** A client that counts the commands it sends, by name. */
function countingClient(): { client: S3Client; counts: Record<string, number> } {
  const c = makeS3Client(tb.endpoint);
  const counts: Record<string, number> = {};
  c.middlewareStack.add(
    (next, context) => async (args) => {
      counts[context.commandName!] = (counts[context.commandName!] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client: c, counts };
}

async function restored(t: S3Target, at?: number): Promise<string> {
  const dest = tmpDir('restore');
  await restoreLog(t, dest, { client, ...(at !== undefined ? { at } : {}) });
  return dest;
}

/** A log of `commits` commits in several 8 KiB segments. */
function genLog(commits = 420, minSegments = 5): string {
  const dir = tmpDir('src');
  appendCommits(dir, commits);
  expect(txBounds(dir).segments.length).toBeGreaterThanOrEqual(minSegments);
  return dir;
}

describe('generated multi-segment logs', () => {
  it('plain: round-trips byte for byte, one part per segment; the restored directory holds segments and indexes only', async () => {
    const src = genLog();
    const t = target('plain');
    const r = await archiveLog(src, t, { client });
    expect(r.objectsUploaded).toBe(txBounds(src).segments.length);
    expect(r.manifest.segments.every((s) => s.parts.length === 1 && s.zstd === undefined)).toBe(true);
    const dest = await restored(t);
    expect(segFiles(dest)).toEqual(segFiles(src));
    const names = fs.readdirSync(dest);
    expect(names).not.toContain('commitlog.lock');
    expect(names.every((n) => n.endsWith('.stdb.log') || n.endsWith('.stdb.ofs'))).toBe(true);
    expect(names.some((n) => n.endsWith('.stdb.ofs'))).toBe(true);
  }, 60_000);

  it('compress: each sealed segment is one zstd object (the bytes clog compress writes), the head stays parts; restore is byte-identical', async () => {
    const src = genLog();
    const offsets = txBounds(src).segments;
    const t = target('zstd');
    const r = await archiveLog(src, t, { client, compress: true });
    const segs = r.manifest.segments;
    expect(segs.map((s) => s.offset)).toEqual(offsets);
    for (const s of segs.slice(0, -1)) {
      expect(s.parts).toEqual([]);
      expect(s.zstd?.key).toBe(zstdKey(s.offset));
      expect(s.zstd?.keepCompressed).toBe(false);
    }
    expect(segs.at(-1)!.zstd).toBeUndefined();
    expect(segs.at(-1)!.parts.length).toBe(1);
    expect(r.bytesUploaded).toBeLessThan(Object.values(segFiles(src)).reduce((n, b) => n + b.length, 0));
    // The object of a sealed segment is exactly what `clog compress` makes of the file.
    const copy = tmpDir('copy');
    for (const [n, b] of Object.entries(segFiles(src))) fs.writeFileSync(path.join(copy, n), b);
    compressLog(copy);
    const local = segFiles(copy);
    for (const s of segs.slice(0, -1)) expect(await getObject(t, s.zstd!.key)).toEqual(local[`${String(s.offset).padStart(20, '0')}.stdb.log`]);
    const dest = await restored(t);
    expect(segFiles(dest)).toEqual(segFiles(src));
    expect(fs.readdirSync(dest)).not.toContain('commitlog.lock');
  }, 60_000);

  it('segments compressed on disk are uploaded as is and restored compressed, byte-identical (also without --compress)', async () => {
    const src = genLog();
    compressLog(src);
    const files = segFiles(src);
    for (const compress of [false, true]) {
      const t = target(`ondisk-${compress}`);
      const r = await archiveLog(src, t, { client, compress });
      const sealed = r.manifest.segments.slice(0, -1);
      expect(sealed.every((s) => s.zstd?.keepCompressed === true)).toBe(true);
      const dest = await restored(t);
      expect(segFiles(dest)).toEqual(files);
      // --at inside a compressed segment: that segment comes back cut, uncompressed; those before it as stored.
      const s = sealed[1]!;
      const at = s.offset + 3;
      const cut = await restored(t, at);
      const want = prefixAt(src, at);
      const plain = plainFiles(src);
      expect(Object.keys(want).length).toBe(2);
      expect(segFiles(cut)).toEqual(Object.fromEntries(Object.entries(want).map(([n, b]) => [n, b.length === plain[n]!.length ? files[n] : b])));
      expect(plainFiles(cut)).toEqual(want);
    }
  }, 90_000);

  it('--at N for every 17th offset and around every segment boundary gives exactly the prefix (plain and compressed archives)', async () => {
    const src = genLog();
    const { last, segments } = txBounds(src);
    const ns = new Set<number>();
    for (let n = 0; n <= last + 5; n += 17) ns.add(n);
    for (const s of segments) for (const d of [-1, 0, 1]) if (s + d >= 0) ns.add(s + d);
    ns.add(last);
    ns.add(last + 100);
    for (const compress of [false, true]) {
      const t = target(`at-${compress}`);
      await archiveLog(src, t, { client, compress });
      for (const n of [...ns].sort((a, b) => a - b)) {
        const dest = await restored(t, n);
        expect(segFiles(dest), `--at ${n} (compress ${compress})`).toEqual(prefixAt(src, n));
      }
    }
  }, 180_000);

  it('a deleted object and a damaged object each give an error naming the key, plain part and zstd object alike', async () => {
    const src = genLog();
    const t = target('damage');
    const r = await archiveLog(src, t, { client, compress: true });
    const z = r.manifest.segments[1]!.zstd!.key;
    const part = r.manifest.segments.at(-1)!.parts[0]!.key;
    const original = { z: await getObject(t, z), part: await getObject(t, part) };
    for (const [key, body] of [[z, original.z], [part, original.part]] as const) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${t.prefix}/${key}` }));
      await expect(restoreLog(t, tmpDir('gone'), { client })).rejects.toThrow(key);
      const flipped = Buffer.from(body);
      flipped[Math.floor(flipped.length / 2)]! ^= 0x20;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${t.prefix}/${key}`, Body: flipped }));
      await expect(restoreLog(t, tmpDir('bad'), { client })).rejects.toThrow(new RegExp(`${key}.*CRC32C`));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${t.prefix}/${key}`, Body: body.subarray(0, body.length - 1) }));
      await expect(restoreLog(t, tmpDir('short'), { client })).rejects.toThrow(new RegExp(`${key}.*bytes, manifest says`));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${t.prefix}/${key}`, Body: body }));
    }
    expect(segFiles(await restored(t))).toEqual(segFiles(src));
  }, 90_000);

  it('incremental runs upload only what is new (objects, bytes and requests counted); --compress replaces sealed parts and deletes them', async () => {
    const src = genLog(150, 2);
    const { client: counted, counts } = countingClient();
    const t = target('inc');
    const first = await archiveLog(src, t, { client: counted });
    const sizes1 = Object.fromEntries(Object.entries(segFiles(src)).map(([n, b]) => [n, b.length]));
    // Nothing new: one GET (the manifest), nothing else.
    for (const k of Object.keys(counts)) delete counts[k];
    const idle = await archiveLog(src, t, { client: counted });
    expect(idle).toMatchObject({ objectsUploaded: 0, bytesUploaded: 0, objectsDeleted: 0 });
    expect(idle.manifest.generation).toBe(first.manifest.generation);
    expect(counts).toEqual({ GetObjectCommand: 1 });
    // Append: the old head's growth and the new segments, nothing else.
    appendCommits(src, 200);
    const sizes2 = Object.fromEntries(Object.entries(segFiles(src)).map(([n, b]) => [n, b.length]));
    for (const k of Object.keys(counts)) delete counts[k];
    const second = await archiveLog(src, t, { client: counted });
    const grown = Object.entries(sizes2).filter(([n, s]) => s !== sizes1[n]);
    expect(second.objectsUploaded).toBe(grown.length);
    expect(second.bytesUploaded).toBe(grown.reduce((sum, [n, s]) => sum + s - (sizes1[n] ?? 0), 0));
    expect(counts).toEqual({ GetObjectCommand: 1, PutObjectCommand: grown.length + 1, HeadObjectCommand: grown.length });
    expect(segFiles(await restored(t))).toEqual(segFiles(src));
    // --compress now: every sealed segment becomes one zstd object and its parts are deleted.
    const partsBefore = (await keys(t)).filter((k) => !k.endsWith('/zstd') && k !== 'manifest.json');
    const third = await archiveLog(src, t, { client, compress: true });
    const sealed = third.manifest.segments.slice(0, -1);
    expect(third.objectsUploaded).toBe(sealed.length);
    const sealedParts = second.manifest.segments.slice(0, -1).reduce((n, s) => n + s.parts.length, 0);
    expect(third.objectsDeleted).toBe(sealedParts);
    const after = await keys(t);
    expect(after).toEqual(['manifest.json', ...third.manifest.segments.flatMap((s) => (s.zstd ? [s.zstd.key] : s.parts.map((p) => p.key)))].sort());
    expect(after.filter((k) => partsBefore.includes(k)).length).toBe(partsBefore.length - sealedParts);
    const fourth = await archiveLog(src, t, { client, compress: true });
    expect(fourth.objectsUploaded).toBe(0);
    expect(segFiles(await restored(t))).toEqual(segFiles(src));
  }, 90_000);

  it('never writes into the directory, and archives under a live writer holding the lock', async () => {
    const src = genLog(200, 3);
    const stat = (): string[] => fs.readdirSync(src).sort().map((n) => `${n} ${fs.statSync(path.join(src, n)).size} ${fs.statSync(path.join(src, n)).mtimeMs}`);
    const before = stat();
    const t = target('ro');
    await archiveLog(src, t, { client, compress: true });
    expect(stat()).toEqual(before);
    // A writer holds the lock and appends while archive runs: archive neither needs nor disturbs it.
    const log = Commitlog.open(src, { maxSegmentSize: 8192, maxRecordsInCommit: 1 });
    try {
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 40; i++) {
          log.append(new TextEncoder().encode(`live ${round} ${i} `.repeat(5)));
          log.flush();
        }
        await archiveLog(src, t, { client, compress: true });
      }
      log.append(new TextEncoder().encode('after'));
      log.flush();
    } finally {
      log.close();
    }
    await archiveLog(src, t, { client, compress: true });
    expect(segFiles(await restored(t))).toEqual(segFiles(src));
  }, 90_000);

  it('lists the directory as the readers do: a symlinked segment name is not archived', async () => {
    const src = genLog(200, 3);
    const plain = segFiles(src);
    const first = Object.keys(plain)[0]!;
    fs.symlinkSync(path.join(src, first), path.join(src, '00000000000000999999.stdb.log'));
    const t = target('listing');
    const r = await archiveLog(src, t, { client });
    expect(r.manifest.segments.map((s) => s.offset)).toEqual(txBounds(src).segments.filter((o) => o !== 999999));
    const dest = await restored(t);
    expect(segFiles(dest)).toEqual(plain);
  }, 60_000);
});

describe('a log changed under its archive', () => {
  it('a segment cut after archiving (reset-to) is an error naming it, and nothing is put', async () => {
    const src = genLog(200, 3);
    const t = target('reset');
    const first = await archiveLog(src, t, { client });
    const head = txBounds(src).segments.at(-1)!;
    const name = path.join(src, `${String(head).padStart(20, '0')}.stdb.log`);
    const bytes = fs.readFileSync(name);
    fs.writeFileSync(name, bytes.subarray(0, bytes.length - 50));
    await expect(archiveLog(src, t, { client })).rejects.toThrow(new RegExp(`segment ${head}: .*archived.*new prefix`));
    expect((await readManifest(client, t))!.generation).toBe(first.manifest.generation);
  }, 60_000);
});

describe('restore --force', () => {
  it('replaces the log in DEST (no old segment left behind), and is refused while a writer holds DEST', async () => {
    const big = genLog(420);
    const small = genLog(150, 2);
    const tBig = target('force-big');
    const tSmall = target('force-small');
    await archiveLog(big, tBig, { client });
    await archiveLog(small, tSmall, { client });
    const dest = await restored(tBig);
    fs.writeFileSync(path.join(dest, 'notes.txt'), 'kept');
    await expect(restoreLog(tSmall, dest, { client })).rejects.toThrow(/not empty/);
    await restoreLog(tSmall, dest, { client, force: true });
    expect(segFiles(dest)).toEqual(segFiles(small));
    expect(fs.readFileSync(path.join(dest, 'notes.txt'), 'utf8')).toBe('kept');
    const log = Commitlog.open(dest, { maxSegmentSize: 8192, maxRecordsInCommit: 1 });
    try {
      await expect(restoreLog(tBig, dest, { client, force: true })).rejects.toThrow(/lock/i);
      expect(segFiles(dest)).toEqual(segFiles(small));
    } finally {
      log.close();
    }
  }, 60_000);
});

describe('uploads are checked before the manifest names them', () => {
  it('a part or zstd object damaged on the way is refused by the server (digest check); the manifest does not change', async () => {
    const src = genLog(200, 3);
    const t = target('transit');
    const first = await archiveLog(src, t, { client });
    appendCommits(src, 100);
    for (const compress of [false, true]) {
      const c = makeS3Client(tb.endpoint);
      let damaged = 0;
      c.middlewareStack.add(
        (next, context) => async (args) => {
          const req = args.request as { path?: string; body?: unknown };
          if (context.commandName === 'PutObjectCommand' && !String(req.path).endsWith('manifest.json') && req.body instanceof Uint8Array) {
            const b = Uint8Array.from(req.body);
            b[b.length >> 1]! ^= 1;
            req.body = b;
            damaged++;
          }
          return next(args);
        },
        { step: 'build', name: 'damageBody' },
      );
      // Damaged after Content-MD5 was set: the server refuses the body (a digest error, status 400).
      const err = (await archiveLog(src, t, { client: c, compress }).then(() => null, (e: unknown) => e)) as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
      expect(err?.$metadata?.httpStatusCode).toBe(400);
      expect(err?.name).toMatch(/BadDigest|InvalidDigest|ContentSHA256Mismatch/);
      expect(damaged).toBeGreaterThan(0);
      expect((await readManifest(client, t))!).toEqual(first.manifest);
    }
    await archiveLog(src, t, { client, compress: true });
    expect(segFiles(await restored(t))).toEqual(segFiles(src));
  }, 60_000);
});
