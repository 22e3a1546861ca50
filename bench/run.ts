/**
 * `npm run bench`: bulk append and full traversal of a log on disk, each against a plain-fs baseline
 * measured in the same run on the same disk. Prints the table and updates BENCHMARKS.md.
 *
 *   node dist/bench/run.js [--quick] [--no-write] [--records=N] [--reps=N] [--dir=PATH] [--only=append|traverse]
 *
 * --quick: 50,000 records, for the smoke test (never writes BENCHMARKS.md).
 * --only: run one half (for `node --cpu-prof`); the traversal still builds its log first, untimed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { positiveInt,
  type Measurement,
  environment,
  environmentLines,
  resultsTable,
  updateBenchmarksFile,
} from './report.js';
import {
  COMMIT_LEN,
  RECORDS_PER_COMMIT,
  RecordSource,
  appendLog,
  dirBytes,
  foldRecords,
  rawRead,
  rawWrite,
  segmentFiles,
  traverseCommits,
  traverseTransactions,
} from './workloads.js';

/** 4 million records (~800 MB): about a second per append pass here, the whole run well under a minute. */
const DEFAULT_RECORDS = 4_000_000;
const QUICK_RECORDS = 50_000;
const DEFAULT_REPS = 3;
/** The targets, in records per second. */
const APPEND_TARGET = 3_000_000;
const TRAVERSE_TARGET = 5_000_000;

interface Args {
  quick: boolean;
  write: boolean;
  records: number;
  reps: number;
  dir: string;
  only: 'append' | 'traverse' | null;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, write: true, records: DEFAULT_RECORDS, reps: DEFAULT_REPS, dir: os.tmpdir(), only: null };
  let records: number | null = null;
  for (const a of argv) {
    const [key, value] = a.split('=', 2) as [string, string | undefined];
    if (key === '--quick') args.quick = true;
    else if (key === '--no-write') args.write = false;
    else if (key === '--records' && value) records = positiveInt(key, value);
    else if (key === '--reps' && value) args.reps = positiveInt(key, value);
    else if (key === '--dir' && value) args.dir = value;
    else if (key === '--only' && (value === 'append' || value === 'traverse')) args.only = value;
    else throw new Error(`unknown argument ${a}`);
  }
  if (args.quick) {
    args.write = false;
    args.records = QUICK_RECORDS;
  }
  if (records !== null) args.records = records;
  // Whole commits only, so every commit is the same size as the baseline's chunk.
  args.records = Math.ceil(args.records / RECORDS_PER_COMMIT) * RECORDS_PER_COMMIT;
  return args;
}

function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function syncFiles(files: readonly string[]): void {
  for (const f of files) {
    const fd = fs.openSync(f, 'r');
    try {
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

function expectCount(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: expected ${want}, got ${got}`);
}

function fmt(s: number): string {
  return `${(s * 1000).toFixed(0)} ms`;
}

/** Untimed passes over a small log so the JIT has compiled the hot paths before the first timed run. */
function warmUp(root: string, src: RecordSource): void {
  const dir = path.join(root, 'warm-up');
  const commits = 50;
  appendLog(dir, src, commits);
  rawWrite(path.join(root, 'warm-up.raw'), src, commits);
  const records = commits * RECORDS_PER_COMMIT;
  expectCount('warm-up commits()', traverseCommits(dir), records);
  expectCount('warm-up foldTransactions', foldRecords(dir), records);
  expectCount('warm-up transactions', traverseTransactions(dir), records);
  rawRead(segmentFiles(dir));
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(path.join(root, 'warm-up.raw'));
}

function benchAppend(root: string, src: RecordSource, args: Args): Measurement[] {
  const numCommits = args.records / RECORDS_PER_COMMIT;
  const bytes = numCommits * COMMIT_LEN;
  const log: Measurement = { name: 'append: Commitlog append() + flush()', records: args.records, bytes, seconds: [], target: APPEND_TARGET };
  const raw: Measurement = { name: 'baseline: fs.writeSync, same chunks', records: args.records, bytes, seconds: [] };
  log.baseline = raw;
  const dir = path.join(root, 'append');
  const file = path.join(root, 'baseline.raw');
  // After each timed pass: an untimed fsync and removal, so every pass starts from the same state (no
  // dirty pages waiting for writeback, no extra page cache held). Without it the second pass of a
  // pair measured up to 4× slower here, whichever it was.
  const runLog = (rep: number): void => {
    log.seconds.push(seconds(() => appendLog(dir, src, numCommits)));
    const segments = segmentFiles(dir);
    syncFiles(segments);
    // Segment headers are 10 bytes each; everything else on disk must be exactly the commits written.
    if (rep === 0) expectCount('bytes in the segments', dirBytes(segments) - 10 * segments.length, bytes);
    fs.rmSync(dir, { recursive: true });
  };
  const runRaw = (): void => {
    raw.seconds.push(seconds(() => rawWrite(file, src, numCommits)));
    syncFiles([file]);
    fs.rmSync(file);
  };
  console.log(`\nBulk append (${numCommits.toLocaleString('en-US')} commits of ${COMMIT_LEN.toLocaleString('en-US')} bytes, no fsync)`);
  for (let rep = 0; rep < args.reps; rep++) {
    // Alternate the order so drift in the machine's state does not favour one side.
    if (rep % 2 === 0) {
      runLog(rep);
      runRaw();
    } else {
      runRaw();
      runLog(rep);
    }
    console.log(`  run ${rep + 1}/${args.reps}: log ${fmt(log.seconds[rep]!)}, baseline ${fmt(raw.seconds[rep]!)}`);
  }
  return [log, raw];
}

function benchTraverse(root: string, src: RecordSource, args: Args): Measurement[] {
  const dir = path.join(root, 'traverse');
  appendLog(dir, src, args.records / RECORDS_PER_COMMIT);
  const files = segmentFiles(dir);
  const bytes = dirBytes(files);
  rawRead(files); // pull every segment into the page cache before any timed pass
  const records = args.records;
  const raw: Measurement = { name: 'baseline: fs.readSync, 1 MiB buffer', records, bytes, seconds: [] };
  const passes: Array<[Measurement, () => number]> = [
    [{ name: 'traverse: commits(dir)', records, bytes, seconds: [], baseline: raw, target: TRAVERSE_TARGET }, () => traverseCommits(dir)],
    [{ name: 'traverse: foldTransactions(dir, slice decoder)', records, bytes, seconds: [], baseline: raw, target: TRAVERSE_TARGET }, () => foldRecords(dir)],
    [{ name: 'traverse: transactions(dir, ArrayDecoder(200))', records, bytes, seconds: [], baseline: raw }, () => traverseTransactions(dir)],
  ];
  console.log(`\nFull traversal (${files.length} segment(s), ${(bytes / 1e6).toFixed(0)} MB, warm page cache)`);
  for (let rep = 0; rep < args.reps; rep++) {
    raw.seconds.push(seconds(() => expectCount('raw read bytes', rawRead(files), bytes)));
    const line = [`baseline ${fmt(raw.seconds[rep]!)}`];
    for (const [m, pass] of passes) {
      let n = 0;
      m.seconds.push(seconds(() => (n = pass())));
      expectCount(m.name, n, records);
      line.push(`${m.name.replace('traverse: ', '').replace(/\(.*/, '')} ${fmt(m.seconds[rep]!)}`);
    }
    console.log(`  run ${rep + 1}/${args.reps}: ${line.join(', ')}`);
  }
  return [...passes.map(([m]) => m), raw];
}

function skeleton(results: string): string {
  return `# Benchmarks\n\nRun with \`npm run bench\` (\`npm run build && node dist/bench/run.js\`).\n\n${results}\n`;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const command =
    process.env['npm_lifecycle_event'] === 'bench'
      ? 'npm run bench'
      : ['node dist/bench/run.js', ...process.argv.slice(2)].join(' ');
  const root = fs.mkdtempSync(path.join(args.dir, 'clog-bench-'));
  const env = environment(command, args.dir);
  console.log('stdb-commitlog benchmarks');
  for (const l of environmentLines(env, args.records, args.reps)) console.log(`  ${l}`);
  const results: Measurement[] = [];
  try {
    const src = new RecordSource();
    warmUp(root, src);
    if (args.only !== 'traverse') results.push(...benchAppend(root, src, args));
    if (args.only !== 'append') results.push(...benchTraverse(root, src, args));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const table = resultsTable(results);
  console.log(`\nResults (median of ${args.reps}; "vs baseline" = throughput ÷ the baseline's, same bytes, same run)\n`);
  console.log(table);
  if (!args.write || args.only !== null) {
    console.log('\nBENCHMARKS.md not written (--quick, --no-write or --only).');
    return;
  }
  const file = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url));
  const block = [...environmentLines(env, args.records, args.reps).map((l) => `- ${l}`), `- date: ${env.date}`, '', table].join('\n');
  updateBenchmarksFile(file, block, skeleton);
  console.log(`\nUpdated ${path.relative(process.cwd(), file) || file}.`);
}

main();
