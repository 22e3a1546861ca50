/** `clog index rebuild <dir>`: regenerates the offset index files from the segments. */
import type { Command } from 'commander';
import { type RebuildResult, rebuildIndexes } from '../../api/ops.js';
import { count, num, parseOffsetArg, UsageError } from '../output.js';
import { ttyProgress } from './verify.js';

interface RebuildFlags {
  segment?: string[];
  maxSegmentSize?: string;
  offsetIndexIntervalBytes?: string;
  json?: boolean;
}

function summary(r: RebuildResult): string {
  const lines = r.indexes.map(
    (i) =>
      `segment ${i.segment}: ${count(i.entries, 'entry', 'entries')} (capacity ${num(i.capacity)}) over ${count(i.commits, 'commit')}` +
      (i.stoppedEarly ? `; stopped early at ${i.stoppedEarly}` : ''),
  );
  for (const o of r.removedOrphans) lines.push(`removed index file of missing segment ${o}`);
  lines.push(`rebuilt ${r.indexes.length} index file${r.indexes.length === 1 ? '' : 's'}`);
  return lines.join('\n');
}

export function registerIndex(program: Command): void {
  const index = program.command('index').description('offset index maintenance (see: clog index rebuild --help)');
  index
    .command('rebuild')
    .description('regenerate the offset index files (*.stdb.ofs) from the segments')
    .argument('<dir>', 'log directory')
    .option('--segment <offset...>', 'only the segments starting at these offsets')
    .option('--max-segment-size <bytes>', "the log's maxSegmentSize: sets the capacity (default: keep the existing file's)")
    .option('--offset-index-interval-bytes <bytes>', "the log's offsetIndexIntervalBytes", '4096')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Entries are chosen as the writer chooses them (the first commit after every <interval> bytes, never
offset 0), so pass the interval the log was written with. Replaying a segment stops at a damaged or
out-of-order commit: the index covers what precedes it. Index files of missing segments are removed.
Refused (exit 2) while a writer holds the log's lock file (commitlog.lock).

Examples:
  clog index rebuild ./db/clog
  clog index rebuild ./db/clog --segment 0 42000
  clog index rebuild ./db/clog --max-segment-size 1073741824 --offset-index-interval-bytes 4096`,
    )
    .action((dir: string, flags: RebuildFlags) => {
      const interval = parseOffsetArg(flags.offsetIndexIntervalBytes ?? '4096', 'offset-index-interval-bytes');
      if (interval < 1) throw new UsageError('--offset-index-interval-bytes must be at least 1');
      const maxSegmentSize = flags.maxSegmentSize === undefined ? undefined : parseOffsetArg(flags.maxSegmentSize, 'max-segment-size');
      const segments = flags.segment?.map((s) => parseOffsetArg(s, 'segment'));
      const progress = ttyProgress('index rebuild');
      let result: RebuildResult;
      try {
        result = rebuildIndexes(dir, {
          maxSegmentSize,
          offsetIndexIntervalBytes: interval,
          segments,
          onSegment: (done, total, segment) => progress.update(done, total, `segment ${segment}`),
        });
      } finally {
        progress.stop();
      }
      if (segments) {
        const missing = segments.filter((s) => !result.indexes.some((i) => i.segment === s));
        if (missing.length > 0) throw new UsageError(`no segment starts at ${missing.join(', ')}`);
      }
      process.stdout.write((flags.json ? JSON.stringify(result) : summary(result)) + '\n');
    });
}
