/**
 * Decoding and replay of a SpacetimeDB-shaped log (issue 6, "Speed"): Txdata decoding through a
 * visitor that decodes every row, a fold, and `replay(dir)`, each against plain traversal
 * (`commits(dir)`) of the same log in the same run. Prints the table and updates its own section of
 * BENCHMARKS.md (between `<!-- replay:start -->` and `<!-- replay:end -->`).
 *
 *   node dist/bench/replay.js [--quick] [--no-write] [--mb=N] [--reps=N] [--dir=PATH] [--only=replay] [--file=PATH]
 *
 * --quick: a 1 MiB log; writes nothing unless --file is given. --mb: log size in MiB (default 100).
 * --only=replay: time only `replay` (for `node --cpu-prof`). --file: the Markdown file to update.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { type Row, type Txdata, replay, txdataDecoder } from '../src/api/replay.js';
import { commits, foldTransactions, transactions } from '../src/index.js';
import { environment, median } from './report.js';
import { EVENT_TABLE, type LogContents, PLAYER_TABLE, benchVisitor, generateLog } from './stdb-log.js';
import { rawRead, segmentFiles } from './workloads.js';

const MIB = 1024 * 1024;
const DEFAULT_MIB = 100;
const QUICK_MIB = 1;
/** The warm-up log: enough commits for the JIT to optimise every pass. */
const WARM_UP_MIB = 0.5;
const SETTLE_MS = 250;
const START = '<!-- replay:start -->';
const END = '<!-- replay:end -->';

interface Args {
  quick: boolean;
  write: boolean;
  mib: number;
  reps: number;
  dir: string;
  only: 'replay' | null;
  file: string | null;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, write: true, mib: DEFAULT_MIB, reps: 3, dir: os.tmpdir(), only: null, file: null };
  let mib: number | null = null;
  for (const a of argv) {
    const [key, value] = a.split('=', 2) as [string, string | undefined];
    if (key === '--quick') args.quick = true;
    else if (key === '--no-write') args.write = false;
    else if (key === '--mb' && value) mib = positive(key, value);
    else if (key === '--reps' && value) args.reps = Math.ceil(positive(key, value));
    else if (key === '--dir' && value) args.dir = value;
    else if (key === '--only' && value === 'replay') args.only = value;
    else if (key === '--file' && value) args.file = path.resolve(value);
    else throw new Error(`unknown argument ${a}`);
  }
  if (args.quick) args.mib = QUICK_MIB;
  if (mib !== null) args.mib = mib;
  // A quick or partial run never overwrites the project's figures; an explicit --file is the caller's.
  if ((args.quick || args.only !== null) && args.file === null) args.write = false;
  return args;
}

function positive(key: string, value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${key} must be a positive number, got ${value}`);
  return n;
}

/**
 * Between passes (untimed): full GCs and a pause. After a replay (a heap of several hundred MB) the
 * next pass ran up to 3× slower here without the pause: the freed heap is swept and returned to the
 * system by background threads, which compete with it on a 2-vCPU machine.
 */
function settleFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as unknown;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return () => {
    if (typeof gc === 'function') {
      gc();
      gc();
    }
    Atomics.wait(pause, 0, 0, SETTLE_MS);
  };
}

interface Counted {
  transactions: number;
  rows: number;
}

interface Pass {
  name: string;
  run: (dir: string, log: LogContents) => Counted;
  seconds: number[];
}

function traverseCommits(dir: string): Counted {
  let n = 0;
  for (const c of commits(dir)) n += c.n;
  return { transactions: n, rows: -1 };
}

function rowsOf(tx: Txdata<Row>): number {
  let n = 0;
  for (const op of tx.mutations?.inserts ?? []) n += op.rowdata.length;
  for (const op of tx.mutations?.deletes ?? []) n += op.rowdata.length;
  return n;
}

function decodeAll(dir: string): Counted {
  const decoder = txdataDecoder(benchVisitor());
  let n = 0;
  let rows = 0;
  for (const tx of transactions(dir, decoder)) {
    rows += rowsOf(tx.txdata);
    n++;
  }
  return { transactions: n, rows };
}

function fold(dir: string): Counted {
  const visitor = benchVisitor();
  foldTransactions(dir, txdataDecoder(visitor));
  return { transactions: visitor.transactions, rows: visitor.rows };
}

/** `replay(dir)`, its tables checked against what the generator wrote. */
function replayAll(dir: string, log: LogContents): Counted {
  const r = replay(dir);
  let rows = 0;
  for (const t of r.tables) rows += t.inserts + t.deletes;
  for (const [id, want] of [
    [PLAYER_TABLE, log.player],
    [EVENT_TABLE, log.event],
  ] as const) {
    const t = r.tables.find((x) => x.tableId === id);
    const got = t && { inserts: t.inserts, deletes: t.deletes, live: t.rows.length };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`replay: table ${id} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
  }
  const reducers = JSON.stringify(Object.entries(r.reducers).sort());
  if (reducers !== JSON.stringify(Object.entries(log.reducers).sort())) throw new Error(`replay: reducers ${reducers}`);
  return { transactions: r.transactions, rows };
}

function passes(only: Args['only']): Pass[] {
  const all: Pass[] = [
    { name: 'baseline: commits(dir)', run: traverseCommits, seconds: [] },
    { name: 'transactions(dir, txdataDecoder(visitor))', run: decodeAll, seconds: [] },
    { name: 'foldTransactions(dir, txdataDecoder(visitor))', run: fold, seconds: [] },
    { name: 'replay(dir)', run: replayAll, seconds: [] },
  ];
  return only === 'replay' ? all.slice(3) : all;
}

/** Runs `pass` once, timed, and checks its counts against the log (the baseline counts no rows). */
function timed(pass: Pass, dir: string, log: LogContents, settle: () => void): number {
  settle();
  const t0 = process.hrtime.bigint();
  const got = pass.run(dir, log);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (got.transactions !== log.transactions || (got.rows !== -1 && got.rows !== log.rows)) {
    throw new Error(`${pass.name}: ${got.transactions} transactions, ${got.rows} rows; expected ${log.transactions}, ${log.rows}`);
  }
  return s;
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function resultsTable(ps: readonly Pass[], log: LogContents): string {
  const base = ps.find((p) => p.name.startsWith('baseline'));
  const head = ['measurement', 'median time', 'transactions/s', 'rows/s', 'MB/s', 'vs commits(dir)'];
  const rows = [
    head,
    ...ps.map((p) => {
      const t = median(p.seconds);
      return [
        p.name,
        `${(t * 1000).toFixed(0)} ms`,
        `${(log.transactions / t / 1e3).toFixed(0)} k`,
        `${(log.rows / t / 1e6).toFixed(2)} M`,
        (log.bytes / t / 1e6).toFixed(0),
        p === base ? 'baseline' : base ? `${(median(base.seconds) / t).toFixed(2)}×` : '',
      ];
    }),
  ];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`;
  return [line(head), rule, ...rows.slice(1).map(line)].join('\n');
}

function describeLog(log: LogContents): string {
  const user = log.player.inserts + log.player.deletes + log.event.inserts + log.event.deletes;
  return (
    `${fmtInt(log.transactions)} transactions, ${fmtInt(log.rows)} rows ` +
    `(${fmtInt(log.player.inserts + log.event.inserts)} inserts, ${fmtInt(log.player.deletes + log.event.deletes)} deletes, ` +
    `${fmtInt(log.rows - user)} system), ${(log.bytes / 1e6).toFixed(1)} MB in ${log.segments} segment(s); ` +
    `${fmtInt(log.player.live + log.event.live)} rows live at the end`
  );
}

/** Replaces the block between the markers, or appends a section holding it; the rest is left alone. */
function updateSection(file: string, block: string): void {
  const generated = `${START}\n${block}\n${END}`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) text = text.slice(0, a) + generated + text.slice(b + END.length);
  else text = `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}\n## Decoding and replay\n\n${generated}\n`;
  fs.writeFileSync(file, text);
}

function main(): void {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  const command = ['node dist/bench/replay.js', ...argv].join(' ');
  const env = environment(command, args.dir);
  const settle = settleFunction();
  const root = fs.mkdtempSync(path.join(args.dir, 'clog-bench-replay-'));
  console.log('stdb-commitlog replay benchmark');
  console.log(`  command: \`${command}\``);
  console.log(`  node ${env.node}; CPU ${env.cpu} × ${env.cores}; ${env.platform}; load average ${env.load.toFixed(2)} at start`);
  const ps = passes(args.only);
  let log: LogContents;
  try {
    // Untimed passes over a small log of the same shape, so the JIT has compiled the hot paths.
    const warm = path.join(root, 'warm-up');
    const warmLog = generateLog(warm, WARM_UP_MIB * MIB, 1);
    for (const p of passes(null)) timed(p, warm, warmLog, settle);
    fs.rmSync(warm, { recursive: true });

    const dir = path.join(root, 'log');
    const t0 = process.hrtime.bigint();
    log = generateLog(dir, args.mib * MIB);
    const genSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`\nGenerated (${genSeconds.toFixed(1)} s): ${describeLog(log)}`);
    rawRead(segmentFiles(dir)); // every pass reads from a warm page cache
    for (let rep = 0; rep < args.reps; rep++) {
      const line: string[] = [];
      for (const p of ps) {
        p.seconds.push(timed(p, dir, log, settle));
        line.push(`${p.name.replace('baseline: ', '').replace(/\(.*/, '')} ${(p.seconds[rep]! * 1000).toFixed(0)} ms`);
      }
      console.log(`  run ${rep + 1}/${args.reps}: ${line.join(', ')}`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const table = resultsTable(ps, log);
  console.log(`\nResults (median of ${args.reps}; "vs commits(dir)" = throughput ÷ plain traversal's, same log, same run)\n`);
  console.log(table);
  if (!args.write) {
    console.log('\nBENCHMARKS.md not written (--quick, --no-write or --only).');
    return;
  }
  const file = args.file ?? fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url));
  const block = [
    `- command: \`${command}\``,
    `- node ${env.node}; CPU ${env.cpu} × ${env.cores}; ${env.platform}; ${env.memoryGiB} GiB RAM; load average ${env.load.toFixed(2)} at start`,
    `- log: ${describeLog(log)}; temp dir ${env.dir}; median of ${args.reps} runs`,
    `- date: ${env.date}`,
    '',
    table,
  ].join('\n');
  updateSection(file, block);
  console.log(`\nUpdated ${path.relative(process.cwd(), file) || file}.`);
}

main();
