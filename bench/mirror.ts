/**
 * Mirror throughput: `mirror()` from a `clog serve` over loopback HTTP (and from a local directory),
 * against a plain `fs.copyFileSync` of the same segment files measured in the same run. Prints the table
 * with the ratios; a block for BENCHMARKS.md is left to the reader to paste (the generated block there
 * belongs to `bench/run.ts`).
 *
 *   node dist/bench/mirror.js [--quick] [--records=N] [--reps=N] [--dir=PATH] [--in-process]
 *
 * --quick: 100,000 records (~20 MB) instead of 1,000,000 (~200 MB).
 * --in-process: the server runs in this process (one event loop for both ends) instead of a child.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listen } from '../src/server/http.js';
import { mirror } from '../src/server/mirror.js';
import { positiveInt, type Measurement, environment, environmentLines, resultsTable } from './report.js';
import { RECORDS_PER_COMMIT, RecordSource, appendLog, dirBytes, rawRead, segmentFiles } from './workloads.js';

const DEFAULT_RECORDS = 1_000_000;
const QUICK_RECORDS = 100_000;
const DEFAULT_REPS = 3;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

interface Args {
  quick: boolean;
  records: number;
  reps: number;
  dir: string;
  inProcess: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, records: DEFAULT_RECORDS, reps: DEFAULT_REPS, dir: os.tmpdir(), inProcess: false };
  let records: number | null = null;
  for (const a of argv) {
    const [key, value] = a.split('=', 2) as [string, string | undefined];
    if (key === '--quick') args.quick = true;
    else if (key === '--in-process') args.inProcess = true;
    else if (key === '--records' && value) records = positiveInt(key, value);
    else if (key === '--reps' && value) args.reps = positiveInt(key, value);
    else if (key === '--dir' && value) args.dir = value;
    else throw new Error(`unknown argument ${a}`);
  }
  if (args.quick) args.records = QUICK_RECORDS;
  if (records !== null) args.records = records;
  args.records = Math.ceil(args.records / RECORDS_PER_COMMIT) * RECORDS_PER_COMMIT;
  return args;
}

async function seconds(fn: () => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function fdatasync(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The baseline: copy every segment file, then fdatasync each (the mirror syncs what it wrote too). */
function copySegments(files: readonly string[], dest: string, sync: boolean): void {
  fs.mkdirSync(dest, { recursive: true });
  for (const f of files) {
    const to = path.join(dest, path.basename(f));
    fs.copyFileSync(f, to);
    if (sync) fdatasync(to);
  }
}

/** The copy must be exact, or the figure means nothing. */
function expectSameSegments(src: string, dst: string): void {
  const a = segmentFiles(src);
  const b = segmentFiles(dst);
  if (a.map((f) => path.basename(f)).join() !== b.map((f) => path.basename(f)).join()) {
    throw new Error(`segments differ: ${a.length} vs ${b.length}`);
  }
  for (let i = 0; i < a.length; i++) {
    if (!fs.readFileSync(a[i]!).equals(fs.readFileSync(b[i]!))) throw new Error(`${b[i]} differs from ${a[i]}`);
  }
}

/** `clog serve <dir> --port 0` in a child process; resolves with its URL. */
function serveChild(dir: string): Promise<{ url: string; stop: () => void }> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('exit', (code) => reject(new Error(`clog serve exited with ${code}`)));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /^listening on (\S+)\n/.exec(out);
      if (m) resolve({ url: m[1]!, stop: () => child.kill('SIGTERM') });
    });
  });
}

async function serveInProcess(dir: string): Promise<{ url: string; stop: () => void }> {
  const { server, url } = await listen({ dir, host: '127.0.0.1', port: 0 });
  return {
    url,
    stop: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

function fmt(s: number): string {
  return `${(s * 1000).toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(args.dir, 'clog-bench-mirror-'));
  const env = environment(['node dist/bench/mirror.js', ...process.argv.slice(2)].join(' '), args.dir);
  console.log('stdb-commitlog mirror benchmark');
  for (const l of environmentLines(env, args.records, args.reps)) console.log(`  ${l}`);
  console.log(`  server: ${args.inProcess ? 'in this process' : '`clog serve` in a child process'}`);
  const src = path.join(root, 'src');
  let server: { url: string; stop: () => void } | null = null;
  const results: Measurement[] = [];
  try {
    appendLog(src, new RecordSource(), args.records / RECORDS_PER_COMMIT);
    const files = segmentFiles(src);
    const bytes = dirBytes(files);
    rawRead(files); // into the page cache before any timed pass: every pass reads from memory
    server = args.inProcess ? await serveInProcess(src) : await serveChild(src);
    const m = (name: string): Measurement => ({ name, records: args.records, bytes, seconds: [] });
    const copy = m('baseline: fs.copyFileSync + fdatasync');
    const copyNoSync = m('fs.copyFileSync, no fdatasync');
    const http = { ...m('mirror(): HTTP loopback → StreamWriter'), baseline: copy };
    const local = { ...m('mirror(): local dir → StreamWriter'), baseline: copy };
    copyNoSync.baseline = copy;
    const url = server.url;
    const passes: Array<[string, Measurement, (dest: string) => unknown]> = [
      ['copy+sync', copy, (dest) => copySegments(files, dest, true)],
      ['copy', copyNoSync, (dest) => copySegments(files, dest, false)],
      ['http', http, (dest) => mirror(url, dest)],
      ['local', local, (dest) => mirror(src, dest)],
    ];
    // Untimed warm-up so the JIT has compiled both ends of the stream before the first timed pass.
    const warm = path.join(root, 'warm-up');
    await mirror(url, warm);
    expectSameSegments(src, warm);
    fs.rmSync(warm, { recursive: true });
    console.log(`\nMirroring ${files.length} segment(s), ${(bytes / 1e6).toFixed(0)} MB (warm page cache)`);
    for (let rep = 0; rep < args.reps; rep++) {
      // Rotate the order so drift in the machine's state does not favour one side.
      const order = passes.map((_, i) => passes[(i + rep) % passes.length]!);
      const line: string[] = [];
      for (const [label, meas, run] of order) {
        const dest = path.join(root, 'dest');
        meas.seconds.push(await seconds(() => run(dest)));
        expectSameSegments(src, dest); // untimed
        fs.rmSync(dest, { recursive: true });
        line.push(`${label} ${fmt(meas.seconds[rep]!)}`);
      }
      console.log(`  run ${rep + 1}/${args.reps}: ${line.join(', ')}`);
    }
    results.push(http, local, copy, copyNoSync);
  } finally {
    server?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
  console.log(`\nResults (median of ${args.reps}; "vs baseline" = throughput ÷ the copy's, same bytes, same run)\n`);
  console.log(resultsTable(results));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
