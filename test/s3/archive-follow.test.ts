// `clog archive --follow` in a child process while another process appends with the library writer,
// against the run's real radosgw: after the writer stops, the archive catches up within a few
// intervals and restores byte for byte; SIGTERM and SIGINT stop it cleanly (exit 0, no half run).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { useBucket } from './bucket.js';
import { segFiles, tmpDir, txBounds } from './log-gen.js';
import { readManifest, restoreLog, type Manifest, type S3Target } from '../../src/api/archive.js';
import { clog, MAIN } from '../e2e/clog-run.js';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'follow-writer.mjs');
const tb = useBucket('clog-archive-follow');
const bucket = tb.name;
let client: S3Client;
let endpoint: string;
beforeAll(() => {
  ({ client, endpoint } = tb);
});

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Child {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  return { proc, stdout: () => out, stderr: () => err, exit };
}

function lastTx(m: Manifest | null): number {
  const s = m?.segments.at(-1);
  if (!s) return -1;
  return s.zstd ? s.zstd.maxTx : (s.parts.at(-1)?.maxTx ?? -1);
}

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('clog archive --follow', () => {
  for (const [signal, compress] of [['SIGTERM', false], ['SIGINT', true]] as const) {
    it(`catches up with a writer in another process, restores byte for byte, stops on ${signal} (compress ${compress})`, async () => {
      const src = tmpDir('follow-src');
      const t: S3Target = { bucket, prefix: `follow-${signal}` };
      const url = `s3://${bucket}/${t.prefix}`;
      // The writer starts first (it creates the log); archive follows while it appends.
      const writer = run([WRITER, src, '600', '10', '60']);
      // (By file size, not by reading: the writer may have created the file but not yet its header.)
      await until('the first commit', 10_000, async () => fs.readdirSync(src).some((n) => n.endsWith('.stdb.log') && fs.statSync(path.join(src, n)).size > 10));
      const archiver = run([MAIN, 'archive', src, url, '--endpoint', endpoint, '--follow', '--interval', '0.2', ...(compress ? ['--compress'] : [])]);
      // While the writer runs, the archive already holds a part of the log.
      await until('a first manifest', 15_000, async () => lastTx(await readManifest(client, t)) >= 0);
      expect(writer.proc.exitCode).toBeNull();
      const w = await writer.exit;
      expect(w.code).toBe(0);
      const last = Number(writer.stdout().trim());
      expect(last).toBe(599);
      expect(txBounds(src).segments.length).toBeGreaterThan(3);
      // Caught up within a few intervals (0.2 s each) of the writer stopping.
      const stopped = Date.now();
      await until('the archive to reach the last commit', 3_000, async () => lastTx(await readManifest(client, t)) === last);
      expect(Date.now() - stopped).toBeLessThan(3_000);
      expect(archiver.proc.exitCode).toBeNull();
      archiver.proc.kill(signal);
      const a = await archiver.exit;
      expect({ code: a.code, signal: a.signal }).toEqual({ code: 0, signal: null });
      expect(archiver.stdout()).toMatch(/stopped after \d+ runs?\n$/);
      const m = (await readManifest(client, t))!;
      // Several runs each uploaded something new while the writer appended.
      expect(m.generation).toBeGreaterThan(2);
      if (compress) expect(m.segments.slice(0, -1).every((s) => s.zstd !== undefined)).toBe(true);
      const dest = tmpDir('follow-dest');
      await restoreLog(t, dest, { client });
      expect(segFiles(dest)).toEqual(segFiles(src));
      // Through the CLI as well.
      const dest2 = path.join(tmpDir('follow-cli'), 'restored');
      const r = await clog('restore', url, dest2, '--endpoint', endpoint);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`restored ${txBounds(src).segments.length} segments`);
      expect(segFiles(dest2)).toEqual(segFiles(src));
    }, 90_000);
  }

  it('refuses a bad --interval with a usage error', async () => {
    const r = await clog('archive', tmpDir('follow-bad'), `s3://${bucket}/x`, '--follow', '--interval', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--interval must be greater than 0');
  });
});
