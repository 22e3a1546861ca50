/**
 * The SQLite export and the change stream at production size (issue 15), each against a baseline
 * measured in the same run:
 *
 *   export       `exportSqlite(dir, file)` of a generated log (child process; peak RSS and RSS at every
 *                million rows applied)
 *   baseline     the same number of rows, with the same columns, inserted into SQLite directly with
 *                prepared statements in transactions of 50 000 rows, each table with a 16-byte blob
 *                key indexed, same pragmas as the export (WAL, synchronous=NORMAL, 64 MiB cache)
 *   changes      `clog changes DIR > /dev/null`
 *   fold         `foldTransactions(dir, txdataDecoder(visitor))` decoding every row with its schema
 *
 *   npm run build && node dist/bench/export.js [--mb=N] [--payload=N] [--dir=PATH] [--no-write] [--quick]
 *
 * --mb: log size in MiB (default 1100: ≥ 1 GB and ≥ 10 M live rows with --payload=48); --payload: the
 * largest event payload in bytes (default 48); --quick: a 20 MiB log, nothing written. Updates its
 * section of BENCHMARKS.md (between `<!-- export:start -->` and `<!-- export:end -->`).
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { exportSqlite, txdataDecoder } from '../src/api/replay.js';
import { foldTransactions } from '../src/index.js';
import { environment } from './report.js';
import { benchVisitor, generateLog, type LogContents } from './stdb-log.js';

const MIB = 1024 * 1024;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLOG = path.resolve(HERE, '../src/cli/main.js');
const START = '<!-- export:start -->';
const END = '<!-- export:end -->';

interface ChildResult {
  seconds: number;
  rows: number;
  peakRssMiB: number;
  /** [rows applied, RSS MiB] at every million rows. */
  rss?: [number, number][];
}

function arg(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
}

/** Peak resident set of this process (VmHWM), MiB. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / MIB;
}

// ---------------------------------------------------------------------------------------------
// The child processes: each measures one pass with a fresh heap.

async function childExport(dir: string, file: string): Promise<ChildResult> {
  const rss: [number, number][] = [];
  let next = 1_000_000;
  const t0 = process.hrtime.bigint();
  const r = await exportSqlite(dir, file, {
    batchBytes: 16 * MIB,
    onProgress: (p) => {
      while (p.rows >= next) {
        rss.push([next, process.memoryUsage().rss / MIB]);
        next += 1_000_000;
      }
    },
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let rows = 0;
  for (const t of r.tables) rows += t.inserts + t.deletes;
  return { seconds, rows, peakRssMiB: peakRss(), rss };
}

/** `inserts` rows of the generator's two shapes straight into SQLite. */
function childBaseline(file: string, players: number, events: number, maxPayload: number): ChildResult {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  db.exec(`CREATE TABLE player (id ANY, name TEXT, x ANY, y ANY, score INTEGER, k BLOB NOT NULL) STRICT;
    CREATE INDEX player_k ON player (k);
    CREATE TABLE event (id ANY, kind TEXT, payload BLOB, k BLOB NOT NULL) STRICT;
    CREATE INDEX event_k ON event (k);`);
  const insPlayer = db.prepare('INSERT INTO player VALUES (?, ?, ?, ?, ?, ?)');
  const insEvent = db.prepare('INSERT INTO event VALUES (?, ?, ?, ?)');
  const noise = crypto.randomBytes(1 << 16);
  const keys = crypto.randomBytes(1 << 20);
  const kinds = ['join', 'move', 'chat', 'score', 'leave'];
  const t0 = process.hrtime.bigint();
  const total = players + events;
  db.exec('BEGIN');
  for (let i = 0, p = 0, e = 0; i < total; i++) {
    const key = keys.subarray((i * 16) % (keys.length - 16), ((i * 16) % (keys.length - 16)) + 16);
    // Interleaved like the log: about one player row in four.
    if ((i % 4 === 0 && p < players) || e >= events) {
      insPlayer.run(BigInt(i), `player_${i % 100_000}`, (i % 1000) / 7, (i % 333) / 3, i % 1_000_000, key);
      p++;
    } else {
      const len = 16 + (i % (maxPayload - 15));
      const at = (i * 7) % (noise.length - len);
      insEvent.run(BigInt(i), kinds[i % 5]!, noise.subarray(at, at + len), key);
      e++;
    }
    if (i % 50_000 === 49_999) {
      db.exec('COMMIT');
      db.exec('BEGIN');
    }
  }
  db.exec('COMMIT');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  db.close();
  return { seconds, rows: total, peakRssMiB: peakRss() };
}

function childFold(dir: string): ChildResult {
  const v = benchVisitor();
  const t0 = process.hrtime.bigint();
  foldTransactions(dir, txdataDecoder(v));
  return {
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    rows: v.rows,
    peakRssMiB: peakRss(),
  };
}

// ---------------------------------------------------------------------------------------------

function runChild(args: string[]): ChildResult {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args], { encoding: 'utf8', maxBuffer: 64 * MIB });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

function timeChanges(dir: string): { seconds: number; peakRssMiB: number } {
  const t0 = process.hrtime.bigint();
  const out = fs.openSync('/dev/null', 'w');
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLOG, 'changes', dir], {
    stdio: ['ignore', out, 'pipe'],
    encoding: 'utf8',
  });
  fs.closeSync(out);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`clog changes failed: ${r.stderr}`);
  const kib = Number(r.stderr.trim().split('\n').at(-1));
  return {
    seconds,
    peakRssMiB: Number.isFinite(kib) ? kib / 1024 : Number.NaN,
  };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const child = arg('child');
  if (child === 'export') return void console.log(JSON.stringify(await childExport(arg('log')!, arg('file')!)));
  if (child === 'baseline') {
    return void console.log(
      JSON.stringify(childBaseline(arg('file')!, Number(arg('players')), Number(arg('events')), Number(arg('payload')))),
    );
  }
  if (child === 'fold') return void console.log(JSON.stringify(childFold(arg('log')!)));

  const quick = process.argv.includes('--quick');
  const write = !quick && !process.argv.includes('--no-write');
  const mib = quick ? 20 : Number(arg('mb') ?? 1100);
  const payload = Number(arg('payload') ?? 48);
  const base = arg('dir') ?? os.tmpdir();
  const command = ['node dist/bench/export.js', ...process.argv.slice(2)].join(' ');
  const env = environment(command, base);
  const root = fs.mkdtempSync(path.join(base, 'clog-bench-export-'));
  console.log(
    `stdb-commitlog export benchmark\n  command: \`${command}\`\n  node ${env.node}; CPU ${env.cpu} × ${env.cores}; load ${env.load.toFixed(2)}`,
  );
  try {
    const dir = path.join(root, 'log');
    const g0 = process.hrtime.bigint();
    const log: LogContents = generateLog(dir, mib * MIB, 0x5eed, payload);
    const genSeconds = Number(process.hrtime.bigint() - g0) / 1e9;
    const live = log.player.live + log.event.live;
    console.log(
      `  log: ${(log.bytes / MIB).toFixed(0)} MiB, ${log.segments} segments, ${fmt(log.transactions)} transactions, ` +
        `${fmt(log.rows)} row operations, ${fmt(live)} live rows (generated in ${genSeconds.toFixed(0)} s)`,
    );
    if (process.argv.includes('--changes-only')) {
      // The change stream against its baseline alone (the export passes take most of the time).
      const fo = runChild(['--child=fold', `--log=${dir}`]);
      const ch = timeChanges(dir);
      console.log(`  fold: ${fo.seconds.toFixed(1)} s, ${fmt(fo.rows / fo.seconds)} rows/s, peak RSS ${fo.peakRssMiB.toFixed(0)} MiB`);
      console.log(`  changes: ${ch.seconds.toFixed(1)} s, ${fmt(log.rows / ch.seconds)} rows/s, peak RSS ${ch.peakRssMiB.toFixed(0)} MiB`);
      console.log(`  clog changes = ${(fo.seconds / ch.seconds).toFixed(2)} × fold`);
      return;
    }
    const ex = runChild(['--child=export', `--log=${dir}`, `--file=${path.join(root, 'export.sqlite')}`]);
    console.log(`  export: ${ex.seconds.toFixed(1)} s, ${fmt(ex.rows / ex.seconds)} rows/s, peak RSS ${ex.peakRssMiB.toFixed(0)} MiB`);
    console.log(`  export RSS (MiB) per million rows applied: ${(ex.rss ?? []).map(([r, m]) => `${r / 1e6} M: ${m.toFixed(0)}`).join(', ')}`);
    if (process.argv.includes('--export-only')) return; // the export's rate and memory alone
    const exportBytes = fs.statSync(path.join(root, 'export.sqlite')).size;
    fs.rmSync(path.join(root, 'export.sqlite'), { force: true });
    const bl = runChild([
      '--child=baseline',
      `--file=${path.join(root, 'baseline.sqlite')}`,
      `--players=${log.player.inserts}`,
      `--events=${log.event.inserts}`,
      `--payload=${payload}`,
    ]);
    console.log(`  baseline: ${bl.seconds.toFixed(1)} s, ${fmt(bl.rows / bl.seconds)} rows/s`);
    fs.rmSync(path.join(root, 'baseline.sqlite'), { force: true });
    const fo = runChild(['--child=fold', `--log=${dir}`]);
    console.log(`  fold: ${fo.seconds.toFixed(1)} s, ${fmt(fo.rows / fo.seconds)} rows/s`);
    const ch = timeChanges(dir);
    console.log(`  changes: ${ch.seconds.toFixed(1)} s, ${fmt(log.rows / ch.seconds)} rows/s, peak RSS ${ch.peakRssMiB.toFixed(0)} MiB`);

    const exportRate = ex.rows / ex.seconds;
    const baseRate = bl.rows / bl.seconds;
    const rssLine = (ex.rss ?? []).map(([rows, m]) => `${rows / 1e6} M: ${m.toFixed(0)}`).join(', ');
    const table = [
      '| pass | time | rows/s | ratio | peak RSS |',
      '|---|---:|---:|---:|---:|',
      `| baseline: SQLite inserts, same rows and columns, 16-byte blob key indexed | ${bl.seconds.toFixed(1)} s | ${fmt(baseRate)} | 1.00 | ${bl.peakRssMiB.toFixed(0)} MiB |`,
      `| \`exportSqlite\` (decode, insert, delete by key) | ${ex.seconds.toFixed(1)} s | ${fmt(exportRate)} | ${(exportRate / baseRate).toFixed(2)} × baseline | ${ex.peakRssMiB.toFixed(0)} MiB |`,
      `| baseline: \`foldTransactions\`, every row decoded | ${fo.seconds.toFixed(1)} s | ${fmt(fo.rows / fo.seconds)} | 1.00 | ${fo.peakRssMiB.toFixed(0)} MiB |`,
      `| \`clog changes DIR > /dev/null\` | ${ch.seconds.toFixed(1)} s | ${fmt(log.rows / ch.seconds)} | ${(fo.seconds / ch.seconds).toFixed(2)} × fold | ${ch.peakRssMiB.toFixed(0)} MiB |`,
    ].join('\n');
    const block = [
      `- command: \`${command}\``,
      `- node ${env.node}; CPU ${env.cpu} × ${env.cores}; ${env.platform}; ${env.memoryGiB} GiB RAM; load average ${env.load.toFixed(2)} at start; date ${env.date}`,
      `- log: ${(log.bytes / MIB).toFixed(0)} MiB in ${log.segments} segments, ${fmt(log.transactions)} transactions, ${fmt(log.rows)} row operations, ${fmt(live)} live rows at the end; the export file: ${(exportBytes / MIB).toFixed(0)} MiB`,
      `- export RSS (MiB) after every million rows applied: ${rssLine || 'fewer than a million rows'}`,
      '',
      table,
    ].join('\n');
    console.log(`\n${table}\n`);
    if (write) {
      const file = path.resolve(HERE, '../../BENCHMARKS.md');
      let text = fs.readFileSync(file, 'utf8');
      const a = text.indexOf(START);
      const b = text.indexOf(END);
      const section = `${START}\n${block}\n${END}`;
      text =
        a >= 0 && b > a
          ? text.slice(0, a) + section + text.slice(b + END.length)
          : `${text.trimEnd()}\n\n## SQLite export and change stream (issue 15)\n\n${section}\n`;
      fs.writeFileSync(file, text);
      console.log('Updated BENCHMARKS.md.');
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
