/**
 * Start-up of `clog` (issue 12): wall time of `clog --help`, and of importing each public entry, against
 * `node -e 0` measured in the same alternating rounds (the machines are shared; ratios hold up better
 * than milliseconds). Pass another build's `main.js` to compare two builds:
 *
 *   npm run build && node dist/bench/startup.js [--runs=30] [--other=/path/to/old/dist/src/cli/main.js]
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const MAIN = path.join(ROOT, 'dist/src/cli/main.js');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const runs = Number(arg('runs') ?? 30);
const other = arg('other');

const entry = (p: string) => ['--input-type=module', '-e', `await import(${JSON.stringify(path.join(ROOT, p))})`];
const cases: Record<string, string[]> = {
  'node -e 0 (baseline)': ['-e', '0'],
  'clog --help': [MAIN, '--help'],
  'import stdb-commitlog': entry('dist/src/index.js'),
  'import stdb-commitlog/replay': entry('dist/src/api/replay.js'),
  'import stdb-commitlog/ops': entry('dist/src/api/ops.js'),
};
if (other) cases['other build: clog --help'] = [other, '--help'];

const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const names = Object.keys(cases);
for (let i = 0; i < runs; i++) {
  const order = i % 2 === 0 ? names : [...names].reverse();
  for (const name of order) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, cases[name]!, { stdio: 'ignore', cwd: ROOT });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    times[name]!.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const base = median(times['node -e 0 (baseline)']!);
console.log(`runs: ${runs}, median wall time; ratio = time / node -e 0; over = time - node -e 0`);
for (const name of names) {
  const m = median(times[name]!);
  console.log(`${name.padEnd(30)} ${m.toFixed(0).padStart(5)} ms  ${(m / base).toFixed(2)}×  over ${(m - base).toFixed(0)} ms`);
}
