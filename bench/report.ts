/** Medians, the results table, and the generated part of BENCHMARKS.md. */
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface Measurement {
  name: string;
  records: number;
  /** Bytes moved per run (written or read), for MB/s. */
  bytes: number;
  /** Wall time of every repetition, in seconds. */
  seconds: number[];
  /** The measurement this one is compared with; absent for baselines. */
  baseline?: Measurement;
  /** Records/s the issue asks for, if any. */
  target?: number;
}

export interface Environment {
  command: string;
  node: string;
  cpu: string;
  cores: number;
  platform: string;
  memoryGiB: number;
  dir: string;
  date: string;
  /** 1-minute load average at the start: other work on the machine makes every figure noisier. */
  load: number;
}

export function environment(command: string, dir: string): Environment {
  const cpus = os.cpus();
  return {
    command,
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    dir,
    date: new Date().toISOString().slice(0, 10),
    load: os.loadavg()[0] ?? 0,
  };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function recordsPerSecond(m: Measurement): number {
  return m.records / median(m.seconds);
}

/** Throughput of `m` divided by its baseline's, on the same bytes. */
export function ratio(m: Measurement): number | null {
  return m.baseline ? median(m.baseline.seconds) / median(m.seconds) : null;
}

function millions(x: number): string {
  return `${(x / 1e6).toFixed(2)} M`;
}

function row(m: Measurement): string[] {
  const t = median(m.seconds);
  const r = ratio(m);
  const rps = recordsPerSecond(m);
  const target = m.target === undefined ? '' : `≥ ${millions(m.target)}: ${rps >= m.target ? 'met' : 'not met'}`;
  return [
    m.name,
    m.records.toLocaleString('en-US'),
    `${(t * 1000).toFixed(0)} ms`,
    millions(rps),
    (m.bytes / t / 1e6).toFixed(0),
    r === null ? 'baseline' : `${r.toFixed(2)}×`,
    target,
  ];
}

/** A Markdown table, padded so it also reads well on a terminal. */
export function resultsTable(ms: readonly Measurement[]): string {
  const head = ['measurement', 'records', 'median time', 'records/s', 'MB/s', 'vs baseline', 'target (records/s)'];
  const rows = [head, ...ms.map(row)];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`;
  return [line(head), rule, ...rows.slice(1).map(line)].join('\n');
}

export function environmentLines(env: Environment, records: number, reps: number): string[] {
  return [
    `command: \`${env.command}\``,
    `node ${env.node}; CPU ${env.cpu} × ${env.cores}; ${env.platform}; ${env.memoryGiB} GiB RAM; ` +
      `load average ${env.load.toFixed(2)} at start`,
    `${records.toLocaleString('en-US')} records of 200 bytes, 1000 per commit, median of ${reps} runs, ` +
      `temp dir ${env.dir} (log and baselines on the same disk)`,
  ];
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/**
 * Replaces the generated block of BENCHMARKS.md (between the markers) and leaves the hand-written
 * text around it alone; creates the file from `skeleton` when it is missing or lacks the markers.
 */
export function updateBenchmarksFile(file: string, block: string, skeleton: (results: string) => string): void {
  const generated = `${START}\n${block}\n${END}`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) text = text.slice(0, a) + generated + text.slice(b + END.length);
  else text = skeleton(generated);
  fs.writeFileSync(file, text);
}

/** A `--key=value` argument that must be a positive integer (underscores allowed: 4_000_000). */
export function positiveInt(key: string, value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${key} must be a positive integer, got ${value}`);
  return n;
}
