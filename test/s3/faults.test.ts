// Archive runs that meet server errors, cut connections and SIGKILL, against the run's real radosgw
// (test/s3/global-setup.ts) through test/s3/fault-proxy.ts. Whatever a run does, the manifest in the
// bucket (read directly, not through the proxy) names only complete objects, and restores to a
// byte-identical prefix of the source.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { useS3Env } from './rgw.js';
import { FaultProxy, type FaultRule } from './fault-proxy.js';
import { appendCommits, expectRestorablePrefix, segmentFiles } from './archive-check.js';
import { archiveLog, makeS3Client, restoreLog, type S3Target } from '../../src/api/archive.js';
import { seededRandom } from '../../src/api/testing.js';

const bucket = 'clog-faults-test';
/** Small segments, so a few hundred commits make a multi-segment log. */
const MAX_SEGMENT = 64 * 1024;
const CLI = path.join(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

let endpoint: string;
let direct: S3Client;
let proxy: FaultProxy;

beforeAll(async () => {
  endpoint = (await useS3Env()).endpoint;
  direct = makeS3Client(endpoint);
  await direct.send(new CreateBucketCommand({ Bucket: bucket }));
  proxy = await FaultProxy.start(endpoint);
}, 180_000);

afterAll(async () => {
  await proxy?.close();
});

function tmp(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `clog-${name}-`));
}

const isManifestPut = (r: { method: string; url: string }): boolean => r.method === 'PUT' && r.url.includes('/manifest.json');
const isPartPut = (r: { method: string; url: string }): boolean => r.method === 'PUT' && r.url.includes('/segments/');

describe('archiveLog through injected faults', () => {
  it('retries 5xx and cut bodies (manifest PUT included) to success; a manifest PUT that never succeeds fails and leaves the old manifest', async () => {
    const src = tmp('fault-src');
    appendCommits(src, 300, 1, MAX_SEGMENT);
    expect(Object.keys(segmentFiles(src)).length).toBeGreaterThanOrEqual(4);
    const target: S3Target = { bucket, prefix: 'retry' };
    const client = makeS3Client(proxy.endpoint);
    const base = proxy.log.length;
    // The request being matched is not in the log yet: it is number (part PUTs logged so far) + 1.
    let from = base;
    const nthPartPut = (n: number) => (r: { method: string; url: string }) => isPartPut(r) && proxy.log.slice(from).filter(isPartPut).length + 1 === n;
    proxy.setRules([
      { when: (r) => r.method === 'GET', fault: { kind: 'status', status: 503 } },
      { when: nthPartPut(2), fault: { kind: 'cut', afterBytes: 1000 } },
      { when: nthPartPut(4), fault: { kind: 'status', status: 500 } },
      { when: isManifestPut, fault: { kind: 'cut', afterBytes: 10 } },
      { when: isManifestPut, fault: { kind: 'status', status: 503 } },
    ]);
    const r = await archiveLog(src, target, { client });
    expect(proxy.log.slice(base).filter((e) => e.fault !== 'none').map((e) => e.fault)).toEqual(['status', 'cut', 'status', 'cut', 'status']);
    expect(r.manifest.generation).toBe(1);
    const first = await expectRestorablePrefix(direct, target, src);
    expect(first.restored).toEqual(segmentFiles(src));

    // More commits, then a manifest PUT that fails more often than the SDK retries: an error, and the
    // bucket still holds generation 1, restorable, although the new parts were uploaded.
    appendCommits(src, 200, 2, MAX_SEGMENT);
    from = proxy.log.length;
    proxy.setRules([
      { when: nthPartPut(1), fault: { kind: 'cut', afterBytes: 4096 } },
      { when: isManifestPut, fault: { kind: 'status', status: 500 }, times: 100 },
    ]);
    await expect(archiveLog(src, target, { client })).rejects.toThrow();
    const failed = await expectRestorablePrefix(direct, target, src);
    expect(failed.manifest!.generation).toBe(1);
    expect(failed.restored).toEqual(first.restored);

    proxy.setRules([]);
    const again = await archiveLog(src, target, { client });
    expect(again.manifest.generation).toBe(2);
    expect((await expectRestorablePrefix(direct, target, src)).restored).toEqual(segmentFiles(src));
  }, 60_000);

  it('seeded random faults over incremental runs: every outcome leaves a restorable prefix', async () => {
    const rand = seededRandom(14);
    const src = tmp('fault-rand');
    const target: S3Target = { bucket, prefix: 'random' };
    const client = makeS3Client(proxy.endpoint);
    const outcomes = { ok: 0, failed: 0 };
    for (let round = 0; round < 8; round++) {
      appendCommits(src, 40 + Math.floor(rand() * 80), 100 + round, MAX_SEGMENT);
      const next = proxy.log.length + 1;
      const rules: FaultRule[] = [];
      for (let k = 0; k < 3; k++) {
        const seq = next + Math.floor(rand() * 8);
        const fault = rand() < 0.5 ? { kind: 'status' as const, status: rand() < 0.5 ? 500 : 503 } : { kind: 'cut' as const, afterBytes: Math.floor(rand() * 30_000) };
        rules.push({ when: (r) => r.seq === seq, fault });
      }
      // Now and then one request fails on every attempt: the run must fail, not write a bad manifest.
      if (rand() < 0.4) {
        const which = rand() < 0.5 ? isManifestPut : isPartPut;
        rules.push({ when: which, fault: { kind: 'status', status: 503 }, times: 1000 });
      }
      proxy.setRules(rules);
      try {
        await archiveLog(src, target, { client });
        outcomes.ok++;
      } catch {
        outcomes.failed++;
      }
      await expectRestorablePrefix(direct, target, src);
    }
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.failed).toBeGreaterThan(0);
    proxy.setRules([]);
    await archiveLog(src, target, { client });
    expect((await expectRestorablePrefix(direct, target, src)).restored).toEqual(segmentFiles(src));
  }, 60_000);

  it('restoreLog through responses cut mid-body: retried to a whole log; cut on every attempt, an error', async () => {
    const src = tmp('fault-get');
    appendCommits(src, 150, 3, MAX_SEGMENT);
    const target: S3Target = { bucket, prefix: 'get' };
    await archiveLog(src, target, { client: direct });
    const isPartGet = (r: { method: string; url: string }): boolean => r.method === 'GET' && r.url.includes('/segments/');
    const before = proxy.faultsFired();
    proxy.setRules([{ when: isPartGet, fault: { kind: 'cutResponse', afterBytes: 5000 }, times: 2 }]);
    const dest = tmp('fault-get-dest');
    await restoreLog(target, dest, { client: makeS3Client(proxy.endpoint), force: true });
    expect(proxy.faultsFired() - before).toBe(2);
    expect(segmentFiles(dest)).toEqual(segmentFiles(src));
    proxy.setRules([{ when: isPartGet, fault: { kind: 'cutResponse', afterBytes: 5000 }, times: 1000 }]);
    await expect(restoreLog(target, tmp('fault-get-dest'), { client: makeS3Client(proxy.endpoint) })).rejects.toThrow(/segments\//);
    proxy.setRules([]);
  }, 60_000);
});

/** Runs `clog archive` as a child; resolves with how it ended. `killAfterFirstRequestMs` kills it -9. */
function runArchive(src: string, url: string, killAfterFirstRequestMs: number | null): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'archive', src, url, '--endpoint', proxy.endpoint], { env: process.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let timer: NodeJS.Timeout | undefined;
  if (killAfterFirstRequestMs !== null) {
    const seen = proxy.log.length;
    const poll = setInterval(() => {
      if (proxy.log.length === seen) return;
      clearInterval(poll);
      timer = setTimeout(() => child.kill('SIGKILL'), killAfterFirstRequestMs);
    }, 2);
    child.on('exit', () => clearInterval(poll));
  }
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe('clog archive killed with SIGKILL', () => {
  it('after every kill the archive restores to a prefix of the source; re-runs finish it', async () => {
    const rand = seededRandom(9);
    const src = tmp('kill-src');
    appendCommits(src, 1200, 7, MAX_SEGMENT);
    const target: S3Target = { bucket, prefix: 'kill' };
    const url = `s3://${bucket}/kill`;
    // Every request waits 60 ms and every round appends: a run outlasts the 0-400 ms before its kill.
    proxy.setRules([{ when: () => true, fault: { kind: 'delay', ms: 60 }, times: Infinity }]);
    let killed = 0;
    const generations = new Set<number>();
    for (let round = 1; round <= 10; round++) {
      if (round > 1) appendCommits(src, 250, 7 + round, MAX_SEGMENT);
      const r = await runArchive(src, url, Math.floor(rand() * 400));
      if (r.signal === 'SIGKILL') killed++;
      else expect(r.code, r.stderr).toBe(0);
      const { manifest } = await expectRestorablePrefix(direct, target, src);
      if (manifest) generations.add(manifest.generation);
      if (round % 4 === 0) {
        const done = await runArchive(src, url, null);
        expect(done.code, done.stderr).toBe(0);
        expect((await expectRestorablePrefix(direct, target, src)).restored).toEqual(segmentFiles(src));
      }
    }
    // The test only means something if most runs really died mid-way.
    expect(killed).toBeGreaterThanOrEqual(6);
    expect(generations.size).toBeGreaterThanOrEqual(2);
    const last = await runArchive(src, url, null);
    expect(last.code, last.stderr).toBe(0);
    expect((await expectRestorablePrefix(direct, target, src)).restored).toEqual(segmentFiles(src));
    proxy.setRules([]);
  }, 90_000);
});
