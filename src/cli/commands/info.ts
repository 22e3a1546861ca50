/** `clog info <dir>`: the segments of a log with their sizes, offsets, epochs, versions, compression and index coverage. */
import type { Command } from 'commander';
import { type LogInfo, type SegmentInfo, logInfo } from '../../api/ops.js';
import { count, formatBytes, num } from '../output.js';
import { type SourceFlags, openLogSource, withSourceOptions } from '../source.js';

function range(lo: number | null, hi: number | null): string {
  if (lo === null || hi === null) return '-';
  return lo === hi ? String(lo) : `${lo}..${hi}`;
}

function indexText(s: SegmentInfo): string {
  if (!s.index) return 'none';
  const i = s.index;
  return `${num(i.entries)}/${count(i.capacity, 'entry', 'entries')}, ${Math.round(i.coverage * 100)}%`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  // Numbers right-aligned, text left-aligned.
  const right = [false, true, true, false, true, true, false, false, false];
  return rows
    .map((r) => r.map((cell, c) => (right[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

function render(info: LogInfo): string {
  const t = info.totals;
  const head =
    `${info.dir}: ${count(t.segments, 'segment')} (${num(t.compressedSegments)} compressed), ` +
    `${formatBytes(t.allocated)} on disk (${formatBytes(t.bytes)} apparent size), ${count(t.commits, 'commit')}, offsets ${range(t.minTxOffset, t.maxTxOffset)}, ` +
    `max epoch ${t.maxEpoch ?? '-'}`;
  if (info.segments.length === 0) return head;
  const rows = [['SEGMENT', 'FILE', 'DATA', 'ZSTD', 'VERSION', 'COMMITS', 'OFFSETS', 'EPOCHS', 'INDEX']];
  for (const s of info.segments) {
    rows.push([
      String(s.segment),
      formatBytes(s.bytes),
      formatBytes(s.size),
      s.compressed ? 'yes' : 'no',
      s.version === null ? '?' : String(s.version),
      String(s.commits),
      range(s.minTxOffset, s.maxTxOffset),
      range(s.minEpoch, s.maxEpoch),
      indexText(s),
    ]);
  }
  const errors = info.segments.filter((s) => s.error !== null).map((s) => `segment ${s.segment}: ${s.error} (see 'clog verify')`);
  return [head, '', table(rows), ...(errors.length > 0 ? ['', ...errors] : [])].join('\n');
}

export function registerInfo(program: Command): void {
  withSourceOptions(
    program
      .command('info')
      .description('show the segments of a log: sizes, offsets, epochs, format versions, compression, index coverage')
      .argument('<dir>', 'log directory, or an archive s3://BUCKET/PREFIX'),
  )
    .option('--json', 'print the information as JSON')
    .addHelpText(
      'after',
      `
'on disk' is the space allocated to segments and index files, 'apparent size' the sum of their lengths
(index files are sparse: created at full capacity, allocated as entries are written). FILE is the
length of the segment file, DATA the (decompressed) segment size. INDEX shows the offset index entries
used out of its capacity and how far into the segment the last entry reaches. A damaged segment is
described up to the damage. For an archive (s3://), FILE is what the segment takes in the archive
(its parts, or its zstd object) and INDEX the one built from the manifest (an entry per part).

Examples:
  clog info ./db/clog
  clog info ./db/clog --json | jq '.totals'
  clog info s3://backups/db1 --endpoint http://127.0.0.1:7480`,
    )
    .action((dir: string, flags: { json?: boolean } & SourceFlags) => {
      const info = logInfo(openLogSource(dir, flags));
      process.stdout.write((flags.json ? JSON.stringify(info) : render(info)) + '\n');
    });
}
