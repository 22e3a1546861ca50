/**
 * Smoke test of the replay benchmark (bench/replay.ts, issue 6 "Speed"): the compiled script runs to
 * completion on a small log, prints one row per measurement with a ratio against plain traversal,
 * leaves BENCHMARKS.md alone under --no-write, and when it writes, replaces only its own section.
 * `npm test` builds dist/ first; a bare `npx vitest run` builds it here if it is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BENCH = path.join(ROOT, 'dist/bench/replay.js');
const BENCHMARKS_MD = path.join(ROOT, 'BENCHMARKS.md');
const MEASUREMENTS = [
  'transactions(dir, txdataDecoder(visitor))',
  'foldTransactions(dir, txdataDecoder(visitor))',
  'replay(dir)',
];

let cwd: string;

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BENCH, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The cells of the Markdown table row for `name`. */
function row(text: string, name: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith(`| ${name} `));
  expect(line, `row "${name}" in:\n${text}`).toBeDefined();
  return line!.split('|').slice(1, -1).map((c) => c.trim());
}

function expectTable(text: string): void {
  expect(row(text, 'measurement')).toEqual(['measurement', 'median time', 'transactions/s', 'rows/s', 'MB/s', 'vs commits(dir)']);
  expect(row(text, 'baseline: commits(dir)')[5]).toBe('baseline');
  for (const name of MEASUREMENTS) {
    const cells = row(text, name);
    expect(cells[1]).toMatch(/^\d+ ms$/);
    expect(cells[2]).toMatch(/^\d+ k$/);
    expect(cells[3]).toMatch(/^\d+\.\d\d M$/);
    expect(cells[5]).toMatch(/^\d+\.\d\d×$/); // a ratio against commits(dir) of the same run
  }
}

beforeAll(() => {
  if (!fs.existsSync(BENCH)) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: ROOT });
  }
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
});

afterAll(() => {
  fs.rmSync(cwd, { recursive: true, force: true });
});

describe('bench/replay.ts', () => {
  it('--quick --no-write measures every pass against commits(dir) and leaves BENCHMARKS.md alone', () => {
    const before = fs.existsSync(BENCHMARKS_MD) ? fs.readFileSync(BENCHMARKS_MD, 'utf8') : null;
    const r = run(['--quick', '--no-write', `--dir=${cwd}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('command: `node dist/bench/replay.js --quick --no-write');
    expect(r.stdout).toContain(`node ${process.version}`);
    // The generated log: tx 0 declares the tables (10 system rows), then user transactions.
    expect(r.stdout).toMatch(/Generated \([\d.]+ s\): [\d,]+ transactions, [\d,]+ rows \([\d,]+ inserts, [\d,]+ deletes, 10 system\)/);
    expect(r.stdout).toContain('run 3/3:');
    expectTable(r.stdout);
    expect(r.stdout).toContain('BENCHMARKS.md not written');
    expect(fs.existsSync(BENCHMARKS_MD) ? fs.readFileSync(BENCHMARKS_MD, 'utf8') : null).toBe(before);
    // The bench works in a temp dir of its own under --dir and removes it.
    expect(fs.readdirSync(cwd).filter((f) => f.startsWith('clog-bench-'))).toEqual([]);
  });

  it('writes between its markers only, and appends a section to a file without them', () => {
    const file = path.join(cwd, 'B.md');
    const head = '# Benchmarks\n\n<!-- bench:results:start -->\nother results\n<!-- bench:results:end -->\n';
    fs.writeFileSync(file, head);
    let r = run(['--quick', '--reps=1', `--dir=${cwd}`, `--file=${file}`]);
    expect(r.status, r.stderr).toBe(0);
    let text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith(head)).toBe(true);
    expect(text.match(/<!-- replay:start -->/g)).toHaveLength(1);
    expectTable(text);

    const tail = '\nHand-written notes after the section.\n';
    const withStale = text.replace(/(<!-- replay:start -->)[^]*(<!-- replay:end -->)/, '$1\nstale\n$2') + tail;
    fs.writeFileSync(file, withStale);
    r = run(['--quick', '--reps=1', `--dir=${cwd}`, `--file=${file}`]);
    expect(r.status, r.stderr).toBe(0);
    text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith(head)).toBe(true);
    expect(text.endsWith(withStale.slice(withStale.indexOf('<!-- replay:end -->')))).toBe(true);
    expect(text.endsWith(tail)).toBe(true);
    expect(text).not.toContain('stale');
    expect(text.match(/<!-- replay:start -->/g)).toHaveLength(1);
    expect(text).toContain('median of 1 runs');
    expectTable(text);
  });

  it('rejects an unknown argument', () => {
    const r = run(['--quick', '--no-write', '--frobnicate']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('unknown argument --frobnicate');
  });
});
