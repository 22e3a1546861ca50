/**
 * Smoke test of `npm run bench` and `npm start`: the compiled scripts run to completion as child
 * processes and print their sections. `npm test` builds dist/ first; a bare `npx vitest run` builds it
 * here if it is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BENCH = path.join(ROOT, 'dist/bench/run.js');
const DEMO = path.join(ROOT, 'dist/bin/demo.js');
const BENCHMARKS_MD = path.join(ROOT, 'BENCHMARKS.md');

let cwd: string;

function run(script: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The cells of the results row for `name` (a Markdown table row). */
function row(stdout: string, name: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`| ${name}`));
  expect(line, `row "${name}" in:\n${stdout}`).toBeDefined();
  return line!.split('|').slice(1, -1).map((c) => c.trim());
}

beforeAll(() => {
  if (!fs.existsSync(BENCH) || !fs.existsSync(DEMO)) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: ROOT });
  }
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
});

afterAll(() => {
  fs.rmSync(cwd, { recursive: true, force: true });
});

describe('bench/run.ts --quick --no-write', () => {
  it('measures every workload against its baseline and leaves BENCHMARKS.md alone', () => {
    const before = fs.existsSync(BENCHMARKS_MD) ? fs.readFileSync(BENCHMARKS_MD, 'utf8') : null;
    const r = run(BENCH, ['--quick', '--no-write', `--dir=${cwd}`]);
    expect(r.status, r.stderr).toBe(0);
    for (const section of ['command:', `node ${process.version}`, os.cpus()[0]!.model.trim(), 'Bulk append', 'Full traversal', 'Results']) {
      expect(r.stdout).toContain(section);
    }
    const measured = [
      'append: Commitlog append() + flush()',
      'traverse: commits(dir)',
      'traverse: foldTransactions(dir, slice decoder)',
      'traverse: transactions(dir, ArrayDecoder(200))',
    ];
    for (const name of measured) {
      const cells = row(r.stdout, name);
      expect(cells[1]).toBe('50,000'); // --quick: 50 commits of 1000 records
      expect(cells[5]).toMatch(/^\d+\.\d\d×$/); // a ratio against the baseline of the same run
    }
    for (const name of ['baseline: fs.writeSync, same chunks', 'baseline: fs.readSync, 1 MiB buffer']) {
      expect(row(r.stdout, name)[5]).toBe('baseline');
    }
    expect(r.stdout).toContain('BENCHMARKS.md not written');
    const after = fs.existsSync(BENCHMARKS_MD) ? fs.readFileSync(BENCHMARKS_MD, 'utf8') : null;
    expect(after).toBe(before);
    // The bench works in a temp dir of its own under --dir and removes it.
    expect(fs.readdirSync(cwd).filter((f) => f.startsWith('clog-bench-'))).toEqual([]);
  });

  it('rejects an unknown argument', () => {
    const r = run(BENCH, ['--quick', '--no-write', '--frobnicate']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('unknown argument --frobnicate');
  });
});

describe('bin/demo.ts --tmp', () => {
  it('writes, reopens and reads back a multi-segment log, then removes it', () => {
    const r = run(DEMO, ['--tmp']);
    expect(r.status, r.stderr).toBe(0);
    for (const section of [
      'Wrote 200,000 transactions',
      'max committed offset 199,999',
      'write throughput:',
      'Reopened: committed offsets 0 .. 199,999, epoch 1',
      'Segments (',
      'Commits (2,000)',
      'Read back',
      'transactions(): 200,000 decoded and compared',
    ]) {
      expect(r.stdout).toContain(section);
    }
    // 200,000 records of ~200 bytes in 8 MiB segments: at least 4 segments, each listed by file name.
    const segments = r.stdout.split('\n').filter((l) => /^\s+\d{20}\.stdb\.log\s/.test(l));
    expect(segments.length).toBeGreaterThanOrEqual(4);
    expect(segments[0]).toContain('00000000000000000000.stdb.log');
    // --tmp: nothing is written into the working directory, and the temp log is gone.
    expect(fs.existsSync(path.join(cwd, 'demo-log'))).toBe(false);
    const logDir = /log in (\S+)/.exec(r.stdout)?.[1];
    expect(logDir).toBeDefined();
    expect(fs.existsSync(logDir!)).toBe(false);
  });
});
