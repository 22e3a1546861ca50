/**
 * Issue 17, "clog never gives false assurance": the real `clog` binary on missing, empty and foreign
 * sources, on resets and prunes that would empty a log, and on mirrors that must be byte-identical to
 * their source, index files included. Needs the build (`npm test` builds first).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commitlog, existingSegmentOffsets } from '../../src/index.js';
import { segPath, tmpDir } from '../unit/maintenance/log-fixtures.js';
import { type Served, clog, clogIn, copyFixture, generatedLog, serveLog, snapshot, start } from './clog-run.js';

let root: string;
const children = new Set<ChildProcess>();
beforeAll(() => {
  root = tmpDir();
});
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

let n = 0;
/** A fresh path under the test root (not created). */
const fresh = (name: string): string => path.join(root, `${name}-${++n}`);
const mkdir = (name: string): string => {
  const d = fresh(name);
  fs.mkdirSync(d);
  return d;
};

async function served(dir: string, ...extra: string[]): Promise<Served> {
  const s = await serveLog(dir, ...extra);
  children.add(s.child);
  return s;
}

function stop(s: Served): void {
  s.child.kill();
  children.delete(s.child);
}

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

/** Every segment and index file of `a` and `b`: same names, same bytes. */
function expectIdenticalLogs(a: string, b: string): void {
  const logFiles = (d: string): string[] => fs.readdirSync(d).filter((f) => /\.stdb\.(log|ofs)$/.test(f)).sort();
  const names = logFiles(a);
  expect(names.some((f) => f.endsWith('.stdb.ofs')), 'the source has index files').toBe(true);
  expect(logFiles(b)).toEqual(names);
  for (const f of names) {
    const x = fs.readFileSync(path.join(a, f));
    const y = fs.readFileSync(path.join(b, f));
    expect(y.length, `${f} length`).toBe(x.length);
    expect(x.equals(y), `${f} bytes`).toBe(true);
  }
}

/** A log written with non-default options: 64 KiB segments, an index entry every 1000 bytes (65-entry index files). */
function nonDefaultLog(dir: string): void {
  const log = Commitlog.open(dir, { maxSegmentSize: 64 * 1024, offsetIndexIntervalBytes: 1000 });
  for (let i = 0; i < 3000; i++) {
    const r = new Uint8Array(40 + ((i * 37) % 200)).fill(i & 0xff);
    log.append(r);
    if (i % 3 === 2) log.flush();
  }
  log.flushAndSync();
  log.close();
}

describe('clog mirror refuses what it cannot copy, and creates nothing then (§1)', () => {
  it('a missing source directory: NOT_FOUND, exit 2, neither the source nor dest created', async () => {
    const src = fresh('missing');
    const dest = fresh('dest');
    const r = await clog('mirror', src, dest);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^clog: no such log directory: .*missing-\d+ \[NOT_FOUND\]$/m);
    expect(r.stdout).not.toMatch(/mirrored/);
    expect(fs.existsSync(src)).toBe(false);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('an unsupported URL scheme is a usage error; no ./ftp: directory appears', async () => {
    const cwd = mkdir('cwd');
    const r = await clogIn(cwd, 'mirror', 'ftp://x', 'dest');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unsupported source 'ftp:\/\/x'.*http:\/\/, https:\/\/ or a log directory/);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('a URL as destination is a usage error', async () => {
    const { dir } = generatedLog(root, `gen-${++n}`);
    const cwd = mkdir('cwd');
    const r = await clogIn(cwd, 'mirror', dir, 's3://bucket/replica');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/destination must be a local directory/);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('an unreachable server: exit 2, and the destination it would have created is not left behind', async () => {
    const dest = fresh('dest');
    const r = await clog('mirror', 'http://127.0.0.1:1', dest);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^clog: .*ECONNREFUSED/m);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('a server that refuses the stream (wrong token): the created destination is removed; an existing one is kept', async () => {
    const { dir } = generatedLog(root, `gen-${++n}`);
    const s = await served(dir, '--token', 'right');
    try {
      const dest = fresh('dest');
      // The meta request is refused as well: nothing is created.
      const r = await clog('mirror', s.url, dest, '--token', 'wrong');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/HTTP 401/);
      expect(fs.existsSync(dest)).toBe(false);
      const existing = mkdir('existing');
      const r2 = await clog('mirror', s.url, existing, '--token', 'wrong');
      expect(r2.code).toBe(2);
      expect(fs.existsSync(existing)).toBe(true);
    } finally {
      stop(s);
    }
  });

  it('a first mirror that fails at the first commit (damaged at the source) removes the dest it created', async () => {
    const { dir } = generatedLog(root, `gen-${++n}`);
    const seg = segPath(dir, 0);
    const bytes = fs.readFileSync(seg);
    bytes[40] ^= 0xff; // inside the first commit's records: its checksum fails
    fs.writeFileSync(seg, bytes);
    const dest = fresh('dest');
    const r = await clog('mirror', dir, dest);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^clog: .*checksum/im);
    expect(fs.existsSync(dest)).toBe(false);
    // Into a directory that existed before, the same failure leaves the directory.
    const existing = mkdir('existing');
    expect((await clog('mirror', dir, existing)).code).toBe(1);
    expect(fs.existsSync(existing)).toBe(true);
  });

  it('a failure after commits landed keeps them (a torn source tail in the middle of the copy)', async () => {
    const { dir } = generatedLog(root, `gen-${++n}`);
    // Damage the second segment: the copy stops there, after segment 0's commits landed.
    const seg = segPath(dir, 13);
    const bytes = fs.readFileSync(seg);
    bytes[40] ^= 0xff;
    fs.writeFileSync(seg, bytes);
    const dest = fresh('dest');
    const r = await clog('mirror', dir, dest);
    expect(r.code).not.toBe(0);
    expect(existingSegmentOffsets(dest)).toContain(0);
  });
});

describe('clog serve refuses a missing directory (§2)', () => {
  it('exit 2 with NOT_FOUND, never listens, creates nothing', async () => {
    const dir = fresh('missing');
    const child = start(['serve', dir, '--port', '0']);
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    children.delete(child);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^clog: no such log directory: .*missing-\d+ \[NOT_FOUND\]$/m);
    expect(stdout).not.toMatch(/listening/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('an existing directory without segments is served, but said, and a mirror of it says so too', async () => {
    const dir = mkdir('empty');
    const s = await served(dir);
    try {
      await sleep(200);
      expect(s.stderr()).toMatch(/no commitlog segments \(\*\.stdb\.log\) in .*empty-\d+/);
      const r = await clog('mirror', s.url, fresh('dest'));
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/no commitlog segments \(\*\.stdb\.log\) on http:/);
      expect(r.stdout).toMatch(/mirrored 0 commits/);
    } finally {
      stop(s);
    }
  });
});

describe('a directory without segments is reported, and verify fails on it (§3)', () => {
  it('verify: exit 1 and "no commitlog segments", on an empty dir and on a dir of other files', async () => {
    const empty = mkdir('empty');
    const home = mkdir('home');
    fs.writeFileSync(path.join(home, '.bashrc'), 'export X=1\n');
    fs.mkdirSync(path.join(home, 'Documents'));
    for (const dir of [empty, home]) {
      const r = await clog('verify', dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`not verified: no commitlog segments (*.stdb.log) in ${dir}`);
      expect(r.stdout).not.toMatch(/^ok/m);
    }
  });

  it('verify --allow-empty accepts it (exit 0), saying so; --json has ok false without it', async () => {
    const dir = mkdir('empty');
    const ok = await clog('verify', dir, '--allow-empty');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok: no commitlog segments .*; accepted \(--allow-empty\)$/m);
    const j = await clog('verify', dir, '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, commits: 0, segments: 0, empty: true, problems: [] });
    expect(j.stderr).toMatch(/no commitlog segments/);
    const ja = await clog('verify', dir, '--json', '--allow-empty');
    expect(ja.code).toBe(0);
    expect(JSON.parse(ja.stdout)).toMatchObject({ ok: true, segments: 0, empty: true });
  });

  it('verify of a real log still says ok and counts its segments', async () => {
    const { dir } = generatedLog(root, `gen-${++n}`);
    const r = await clog('verify', dir, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, commits: 40, segments: 4, empty: false });
    expect(r.stderr).toBe('');
  });

  it('info, dump, tail, tables, rows say it on stderr; info still prints its (empty) summary', async () => {
    const dir = mkdir('empty');
    const note = `clog: no commitlog segments (*.stdb.log) in ${dir}`;
    const info = await clog('info', dir);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/: 0 segments/);
    expect(info.stderr).toContain(note);
    for (const args of [['dump', dir], ['tail', dir], ['tables', dir], ['rows', dir, 'message']]) {
      const r = await clog(...args);
      expect(r.stderr, args.join(' ')).toContain(note);
    }
    // None of them created anything.
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a missing directory is NOT_FOUND, exit 2, for every command, and is never created', async () => {
    const dir = fresh('missing');
    for (const args of [
      ['info', dir],
      ['verify', dir],
      ['verify', dir, '--allow-empty'],
      ['dump', dir],
      ['tail', dir],
      ['tables', dir],
      ['changes', dir],
      ['compress', dir],
      ['prune', dir, '--before', '5'],
      ['reset-to', dir, '5', '--yes', '--allow-empty'],
      ['index', 'rebuild', dir],
    ]) {
      const r = await clog(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/no such log directory: .* \[NOT_FOUND\]/);
    }
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('a log with segments gets no such note', async () => {
    const { dir } = generatedLog(root, `gen-${++n}`);
    const r = await clog('info', dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('reset-to and prune never empty a log on --yes alone (§4)', () => {
  /** A generated log pruned to start at offset 26 (segments 26 and 39). */
  async function lateLog(): Promise<string> {
    const { dir } = generatedLog(root, `gen-${++n}`);
    const p = await clog('prune', dir, '--before', '26', '--yes');
    expect(p.code).toBe(0);
    expect(existingSegmentOffsets(dir)).toEqual([26, 39]);
    return dir;
  }

  it('reset-to below the first offset: the dry run says the log would be empty and names the flag', async () => {
    const dir = await lateLog();
    const before = snapshot(dir);
    const r = await clog('reset-to', dir, '5');
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/remove segment 39\nremove segment 26\n/);
    expect(r.stdout).toMatch(/EVERY segment: the log would be EMPTY.*--allow-empty as well as --yes/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('reset-to below the first offset with --yes only: refused, exit 2, naming --allow-empty; nothing removed', async () => {
    const dir = await lateLog();
    const before = snapshot(dir);
    const r = await clog('reset-to', dir, '5', '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to empty the log: resetting to 5 removes every segment \(the log starts at 26\); add --allow-empty/);
    expect(snapshot(dir)).toEqual(before);
    const j = await clog('reset-to', dir, '5', '--yes', '--json');
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({ leavesEmpty: true, executed: false });
  });

  it('with --yes --allow-empty it empties the log; a small cut still needs --yes only', async () => {
    const dir = await lateLog();
    const r = await clog('reset-to', dir, '5', '--yes', '--allow-empty');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the log is now EMPTY/);
    expect(existingSegmentOffsets(dir)).toEqual([]);

    const other = await lateLog();
    const cut = await clog('reset-to', other, '30', '--yes');
    expect(cut.code).toBe(0);
    expect(cut.stdout).not.toMatch(/EMPTY/);
    expect(existingSegmentOffsets(other)).toEqual([26]);
  });

  it('prune that leaves only a segment without commits: dry run says so, --yes alone is refused, --allow-empty deletes', async () => {
    const { dir } = generatedLog(root, `gen-${++n}`);
    // A newest segment a writer created and never wrote to: just the 10-byte header.
    fs.writeFileSync(segPath(dir, 40), fs.readFileSync(segPath(dir, 0)).subarray(0, 10));
    const dry = await clog('prune', dir, '--before', '40');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would delete 4 segments/);
    expect(dry.stdout).toMatch(/EVERY commit.*EMPTY.*--allow-empty as well as --yes/);
    const before = snapshot(dir);
    const r = await clog('prune', dir, '--before', '40', '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to empty the log: pruning before 40 deletes every commit; add --allow-empty/);
    expect(snapshot(dir)).toEqual(before);
    const ok = await clog('prune', dir, '--before', '40', '--yes', '--allow-empty');
    expect(ok.code).toBe(0);
    expect(existingSegmentOffsets(dir)).toEqual([40]);
    // A prune that keeps commits needs no extra flag.
    const { dir: other } = generatedLog(root, `gen-${++n}`);
    const p = await clog('prune', other, '--before', '39', '--yes');
    expect(p.code).toBe(0);
    expect(p.stdout).not.toMatch(/EMPTY/);
  });
});

describe('a default mirror is byte-identical to its source, index files included (§5)', () => {
  it('a multi-segment log with non-default options, over HTTP: /v1/meta publishes the options, the copy is identical', async () => {
    const src = fresh('src');
    nonDefaultLog(src);
    expect(existingSegmentOffsets(src).length).toBeGreaterThan(4);
    expect(fs.statSync(path.join(src, '00000000000000000000.stdb.ofs')).size).toBe(65 * 16);
    const s = await served(src);
    try {
      const meta = (await getJson(`${s.url}/v1/meta`)) as { logOptions: Record<string, unknown> };
      expect(meta.logOptions).toEqual({
        maxSegmentSize: 65 * 1000,
        offsetIndexIntervalBytes: 1000,
        offsetIndexBytes: 65 * 16,
        from: { maxSegmentSize: 'index', offsetIndexIntervalBytes: 'index' },
      });
      const dest = fresh('dest');
      const r = await clog('mirror', s.url, dest, '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).logOptions).toMatchObject({ maxSegmentSize: 65000, offsetIndexIntervalBytes: 1000 });
      expectIdenticalLogs(src, dest);
      // Resuming after more commits keeps it identical.
      const log = Commitlog.open(src, { maxSegmentSize: 64 * 1024, offsetIndexIntervalBytes: 1000 });
      for (let i = 0; i < 500; i++) {
        log.append(new Uint8Array(100 + (i % 50)).fill(7));
        if (i % 4 === 3) log.flush();
      }
      log.flushAndSync();
      log.close();
      expect((await clog('mirror', s.url, dest)).code).toBe(0);
      expectIdenticalLogs(src, dest);
    } finally {
      stop(s);
    }
  });

  it('options given to clog serve are published as given', async () => {
    const src = fresh('src');
    nonDefaultLog(src);
    const s = await served(src, '--max-segment-size', '65536', '--offset-index-interval-bytes', '1000');
    try {
      const meta = (await getJson(`${s.url}/v1/meta`)) as { logOptions: Record<string, unknown> };
      expect(meta.logOptions).toMatchObject({ maxSegmentSize: 65536, offsetIndexIntervalBytes: 1000, from: { maxSegmentSize: 'given' } });
      const dest = fresh('dest');
      expect((await clog('mirror', s.url, dest)).code).toBe(0);
      expectIdenticalLogs(src, dest);
    } finally {
      stop(s);
    }
  });

  it('a source directory: the options are derived the same way', async () => {
    const src = fresh('src');
    nonDefaultLog(src);
    const dest = fresh('dest');
    const r = await clog('mirror', src, dest);
    expect(r.code).toBe(0);
    expectIdenticalLogs(src, dest);
  });

  it('a real SpacetimeDB log with its index rebuilt at other options, over HTTP', async () => {
    const { dir } = copyFixture('spacetimedb-v1.2', mkdir('fixture'));
    const rb = await clog('index', 'rebuild', dir, '--max-segment-size', String(1024 * 1024), '--offset-index-interval-bytes', '1024');
    expect(rb.code).toBe(0);
    expect(fs.statSync(path.join(dir, '00000000000000000000.stdb.ofs')).size).toBe(1024 * 16);
    const s = await served(dir);
    try {
      const dest = fresh('dest');
      expect((await clog('mirror', s.url, dest)).code).toBe(0);
      expectIdenticalLogs(dir, dest);
      expect((await clog('verify', dest)).code).toBe(0);
    } finally {
      stop(s);
    }
  });

  it('explicit flags still override the source options', async () => {
    const src = fresh('src');
    nonDefaultLog(src);
    const dest = fresh('dest');
    expect((await clog('mirror', src, dest, '--max-segment-size', String(32 * 1000), '--offset-index-interval-bytes', '1000')).code).toBe(0);
    expect(fs.statSync(path.join(dest, '00000000000000000000.stdb.ofs')).size).toBe(32 * 16);
  });

  it('info says which size it shows: allocated on disk, and the apparent size of the (sparse) files', async () => {
    const src = fresh('src');
    nonDefaultLog(src);
    const dest = fresh('dest');
    // A 1 GiB segment size makes 4 MiB index files that hold a few entries: sparse.
    expect((await clog('mirror', src, dest, '--max-segment-size', String(1024 * 1024 * 1024), '--offset-index-interval-bytes', '4096')).code).toBe(0);
    const j = JSON.parse((await clog('info', dest, '--json')).stdout) as { totals: { bytes: number; allocated: number }; segments: Array<{ allocated: number }> };
    const apparent = fs.readdirSync(dest).filter((f) => /\.stdb\.(log|ofs)$/.test(f)).reduce((sum, f) => sum + fs.statSync(path.join(dest, f)).size, 0);
    const blocks = fs.readdirSync(dest).filter((f) => /\.stdb\.(log|ofs)$/.test(f)).reduce((sum, f) => sum + fs.statSync(path.join(dest, f)).blocks * 512, 0);
    expect(j.totals.bytes).toBe(apparent);
    expect(j.totals.allocated).toBe(blocks);
    expect(j.totals.allocated).toBeLessThan(j.totals.bytes);
    const text = await clog('info', dest);
    expect(text.stdout).toMatch(/ on disk \([0-9.]+ [KMG]iB apparent size\)/);
  });
});

describe('mirror --follow shows where it is, not offset/total (§6)', () => {
  it('the status names the offset reached, the commits and bytes of this run, and that it follows', async () => {
    const { dir } = generatedLog(root, `gen-${++n}`);
    const s = await served(dir);
    const dest = fresh('dest');
    const child = start(['mirror', s.url, dest, '--follow']);
    children.add(child);
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    try {
      const want = /^mirror: following http:\/\/127\.0\.0\.1:\d+: at offset 39; 40 commits, [0-9.]+ (B|KiB) received this run; Ctrl-C stops$/m;
      for (let i = 0; i < 100 && !want.test(stderr); i++) await sleep(100);
      expect(stderr).toMatch(want);
      expect(stderr).not.toMatch(/\d+\/\d+/);
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(0);
      expect(stdout).toMatch(/mirrored 40 commits/);
    } finally {
      children.delete(child);
      stop(s);
    }
  });
});
