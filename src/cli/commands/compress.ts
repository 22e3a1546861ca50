/** `clog compress <dir>`: compresses sealed segments (seekable zstd) and reports the space saved. */
import type { Command } from 'commander';
import { type CompressResult, type CompressedSegment, compressLog } from '../../api/ops.js';
import { count, formatBytes, parseOffsetArg, UsageError } from '../output.js';
import { ttyProgress } from './verify.js';

interface CompressFlags {
  keepLast: string;
  dryRun?: boolean;
  json?: boolean;
}

function summary(r: CompressResult, dryRun: boolean, keepLast: number): string {
  const already = r.segments.filter((s) => s.skipped === 'already-compressed').length;
  const kept = r.segments.filter((s) => s.skipped === 'kept').length;
  const rest = `${kept} newest kept plain (--keep-last ${keepLast}), ${already} already compressed`;
  if (r.compressed === 0) return `nothing to compress: ${rest}`;
  if (dryRun) return `would compress ${count(r.compressed, 'segment')} (${formatBytes(r.bytesBefore)}); ${rest}`;
  const pct = r.bytesBefore > 0 ? Math.round((r.saved / r.bytesBefore) * 100) : 0;
  return (
    `compressed ${count(r.compressed, 'segment')}: ${formatBytes(r.bytesBefore)} -> ` +
    `${formatBytes(r.bytesAfter)}, saved ${formatBytes(r.saved)} (${pct}%); ${rest}`
  );
}

/** What happened to the segment just looked at, for the progress line (skips named as skips). */
export function segmentDone(s: CompressedSegment, dryRun: boolean): string {
  if (s.skipped === 'already-compressed') return `segment ${s.segment} skipped (already compressed)`;
  if (s.skipped === 'kept') return `segment ${s.segment} skipped (kept plain)`;
  if (dryRun) return `segment ${s.segment} would be compressed`;
  return `segment ${s.segment} compressed (${formatBytes(s.before)} -> ${formatBytes(s.after)})`;
}

export function registerCompress(program: Command): void {
  program
    .command('compress')
    .description('compress the sealed segments of a log (seekable zstd; reads stay transparent)')
    .argument('<dir>', 'log directory')
    .option('--keep-last <n>', 'leave the newest n segments uncompressed (at least 1: the segment being written)', '1')
    .option('--dry-run', 'only show what would be compressed')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Each segment is rewritten through a temporary file, fsynced and renamed over the original, so an
interruption leaves either the plain or the compressed segment. Offset index files stay valid.
Refused (exit 2) while a writer holds the log's lock file (commitlog.lock).

Examples:
  clog compress ./db/clog
  clog compress ./db/clog --keep-last 4 --dry-run`,
    )
    .action((dir: string, flags: CompressFlags) => {
      const keepLast = parseOffsetArg(flags.keepLast, 'keep-last');
      if (keepLast < 1) throw new UsageError('--keep-last must be at least 1: the newest segment is never compressed');
      const progress = ttyProgress('compress');
      let saved = 0;
      let result: CompressResult;
      try {
        result = compressLog(dir, {
          keepLast,
          dryRun: flags.dryRun,
          onSegment: (done, total, s) => {
            saved += s.before - s.after;
            progress.update(done, total, `${segmentDone(s, flags.dryRun === true)}; saved ${formatBytes(saved)}`);
          },
        });
      } finally {
        progress.stop();
      }
      process.stdout.write((flags.json ? JSON.stringify(result) : summary(result, flags.dryRun === true, keepLast)) + '\n');
    });
}
