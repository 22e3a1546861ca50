/**
 * `clog info`, `verify`, `dump` and `tail` as a user runs them (issue 5): the real binary on copies of
 * the SpacetimeDB fixtures and on generated logs, clean and damaged. Expected values come from the
 * fixtures' expected-commits.json and from the spec's layout of generated logs.
 * Needs the build (`npm test` builds first): dist/src/cli/main.js.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commitlog, FsRepo } from '../../src/index.js';
import {
  type CommitPlace,
  appendBytes,
  flipBit,
  frame,
  idxPath,
  record,
  segPath,
  tmpDir,
  truncateFile,
  writeIndexEntry,
} from '../unit/maintenance/log-fixtures.js';
import { clog, copyFixture, generatedLog, hexChecksums, jsonLines, snapshot, start } from './clog-run.js';

const FIXTURE_NAMES = ['spacetimedb-v1.2', 'spacetimedb-v2.6'];
const COMMANDS = [['info'], ['verify'], ['dump'], ['tail'], ['compress'], ['reset-to'], ['index', 'rebuild'], ['prune']];

let root: string;
beforeAll(() => {
  root = tmpDir();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const generated = (name: string): ReturnType<typeof generatedLog> => generatedLog(root, name);


describe('clog --help', () => {
  it('every command has help with examples, exit code 0', async () => {
    const runs = await Promise.all(COMMANDS.map((c) => clog(...c, '--help')));
    runs.forEach((r, i) => {
      expect(r.code, COMMANDS[i]!.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: clog ${COMMANDS[i]!.join(' ')}`);
      expect(r.stdout).toContain('Examples:');
    });
    const top = await clog('--help');
    for (const c of COMMANDS) expect(top.stdout).toContain(c[0]);
    expect(top.stdout).toContain('-V, --version');
  });

  it('--version and -V print the package version, exit 0', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const r = await clog(flag);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, `${version}\n`, '']);
    }
  });
});

describe('clog on the SpacetimeDB fixtures', () => {
  it('verify, dump, info and tail agree with expected-commits.json', async () => {
    for (const name of FIXTURE_NAMES) {
      const { dir, expected } = copyFixture(name, root);
      const before = snapshot(dir);
      const [verify, human, dump, info, tail] = await Promise.all([
        clog('verify', dir, '--json'),
        clog('verify', dir),
        clog('dump', dir),
        clog('info', dir, '--json'),
        clog('tail', dir, '-n', '2'),
      ]);
      const n = expected.commits.length;
      expect(verify.code).toBe(0);
      expect(JSON.parse(verify.stdout)).toEqual({ ok: true, commits: n, segments: 1, empty: false, problems: [] });
      expect(Object.keys(JSON.parse(verify.stdout))).toEqual(['ok', 'commits', 'segments', 'empty', 'problems']);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^ok: /);
      expect(dump.code).toBe(0);
      expect(jsonLines(dump.stdout)).toEqual(hexChecksums(expected.commits));
      expect(info.code).toBe(0);
      const last = expected.commits[n - 1]!;
      expect(JSON.parse(info.stdout).segments).toEqual([
        expect.objectContaining({ segment: 0, commits: n, minTxOffset: 0, maxTxOffset: last.minTxOffset! + last.n! - 1, version: 1 }),
      ]);
      expect(tail.code).toBe(0);
      expect(jsonLines(tail.stdout)).toEqual(hexChecksums(expected.commits.slice(-2)));
      expect(snapshot(dir)).toEqual(before); // read-only commands
    }
  });

  it('dump --from/--to/--records', async () => {
    const { dir, expected } = copyFixture('spacetimedb-v1.2', path.join(root, 'range'));
    const r = await clog('dump', dir, '--from', '3', '--to', '5', '--records');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout) as Array<Record<string, unknown>>;
    expect(lines.map(({ records, ...rest }) => rest)).toEqual(hexChecksums(expected.commits.slice(3, 6)));
    const bytes = fs.readFileSync(path.join(dir, '00000000000000000000.stdb.log'));
    for (const l of lines) {
      const at = (l.byteOffset as number) + 22;
      expect(l.records).toBe(bytes.subarray(at, at + (l.len as number)).toString('hex'));
    }
  });
});

describe('clog verify on damaged logs', () => {
  it('reports kind, segment and byte offset, exit code 1', async () => {
    const cases: Array<{ name: string; damage: (dir: string, places: CommitPlace[]) => void; expected: object }> = [
      {
        name: 'bitflip',
        damage: (d, p) => flipBit(segPath(d, 13), p[15]!.byteOffset + 40),
        expected: { kind: 'checksum', segment: 13, byteOffset: 10 + 2 * 76 },
      },
      {
        name: 'truncated',
        damage: (d) => truncateFile(segPath(d, 39), 10 + 50),
        expected: { kind: 'truncated', segment: 39, byteOffset: 10 },
      },
      { name: 'gap', damage: (d) => new FsRepo(d).removeSegment(26), expected: { kind: 'out-of-order', segment: 39, byteOffset: 10 } },
      {
        name: 'fork',
        damage: (d) => appendBytes(segPath(d, 39), frame(39, record(99, 50))),
        expected: { kind: 'fork', segment: 39, byteOffset: 10 + 76 },
      },
      { name: 'header', damage: (d) => flipBit(segPath(d, 0), 0), expected: { kind: 'segment-header', segment: 0, byteOffset: 0 } },
      {
        name: 'index',
        damage: (d, p) => writeIndexEntry(idxPath(d, 26), 0, 26, p[27]!.byteOffset),
        expected: { kind: 'index', segment: 26, byteOffset: 0 },
      },
    ];
    const dirs = cases.map((c) => {
      const { dir, places } = generated(`damaged-${c.name}`);
      c.damage(dir, places);
      return dir;
    });
    const runs = await Promise.all(dirs.map((d) => clog('verify', d, '--continue', '--json')));
    runs.forEach((r, i) => {
      expect(r.code, cases[i]!.name).toBe(1);
      const out = JSON.parse(r.stdout);
      expect(Object.keys(out)).toEqual(['ok', 'commits', 'segments', 'empty', 'problems']);
      expect(out.ok).toBe(false);
      expect(out.problems).toHaveLength(1);
      expect(out.problems[0], cases[i]!.name).toMatchObject(cases[i]!.expected);
      expect(typeof out.problems[0].message).toBe('string');
    });
  });

  it('stops at the first problem unless --continue; human output names each problem on one line', async () => {
    const { dir, places } = generated('two-problems');
    flipBit(segPath(dir, 0), places[3]!.byteOffset + 30);
    flipBit(segPath(dir, 26), places[28]!.byteOffset + 30);
    const [first, all, human] = await Promise.all([clog('verify', dir, '--json'), clog('verify', dir, '--json', '--continue'), clog('verify', dir, '--continue')]);
    expect(first.code).toBe(1);
    expect(JSON.parse(first.stdout)).toMatchObject({ ok: false, commits: 3, problems: [{ kind: 'checksum', segment: 0 }] });
    expect(JSON.parse(all.stdout).problems.map((p: { segment: number }) => p.segment)).toEqual([0, 26]);
    expect(human.code).toBe(1);
    const lines = human.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^segment 0 byte ${places[3]!.byteOffset}: \\[checksum\\] `));
    expect(lines[2]).toMatch(/^2 problems found/);
  });

  it('dump prints the commits before the damage, then the error on one line, exit code 1', async () => {
    const { dir, places } = generated('dump-damaged');
    flipBit(segPath(dir, 0), places[5]!.byteOffset + 30);
    const r = await clog('dump', dir);
    expect(r.code).toBe(1);
    expect((jsonLines(r.stdout) as Array<{ minTxOffset: number }>).map((c) => c.minTxOffset)).toEqual([0, 1, 2, 3, 4]);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^clog: .*checksum/);
  });
});

describe('clog errors and exit codes', () => {
  it('usage and I/O errors exit 2 with one line; --debug adds the stack', async () => {
    const missing = path.join(root, 'missing');
    const [info, debug, badOffset, unknown, noBefore, badLines] = await Promise.all([
      clog('info', missing),
      clog('verify', missing, '--debug'),
      clog('dump', missing, '--from', 'ten'),
      clog('verify', missing, '--frobnicate'),
      clog('prune', missing),
      clog('tail', missing, '-n', '-3'),
    ]);
    for (const r of [info, debug, badOffset, unknown, noBefore, badLines]) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect(info.stderr).toBe(`clog: no such log directory: ${missing} [NOT_FOUND]\n`);
    expect(debug.stderr.split('\n')[0]).toBe(info.stderr.trim());
    expect(debug.stderr).toMatch(/\n\s+at /);
    expect(badOffset.stderr).toBe("clog: --from must be a non-negative integer, got 'ten' [USAGE]\nusage: clog dump [options] <dir>\n");
    expect(fs.existsSync(missing)).toBe(false); // read-only commands do not create the directory
  });
});

describe('clog tail -f', () => {
  it('prints the last commits, then new ones as they are written; exits 0 on SIGTERM', async () => {
    const { dir } = generated('follow');
    const child = start(['tail', dir, '-n', '2', '-f', '--interval', '20']);
    let out = '';
    const lines = (): Array<{ minTxOffset: number }> => jsonLines(out.slice(0, out.lastIndexOf('\n') + 1)) as Array<{ minTxOffset: number }>;
    const waitFor = async (n: number): Promise<void> => {
      const until = Date.now() + 10_000;
      while (lines().length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    };
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitFor(2);
    expect(lines().map((l) => l.minTxOffset)).toEqual([38, 39]);
    const log = Commitlog.open(dir, { maxSegmentSize: 1024, offsetIndexIntervalBytes: 256 });
    for (let k = 40; k < 45; k++) {
      log.append(record(k, 50));
      log.flush();
    }
    log.close();
    await waitFor(7);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines().map((l) => l.minTxOffset)).toEqual([38, 39, 40, 41, 42, 43, 44]);
  });
});
