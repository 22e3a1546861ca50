/**
 * `clog prune <dir> --before <offset>`: deletes whole old segments; a dry run unless --yes.
 * `clog prune s3://BUCKET/PREFIX --retain-days D`: the same for an archive (retention, issue 14).
 */
import type { Command } from 'commander';
import { makeS3Client, pruneArchive, type PruneArchiveResult } from '../../api/archive.js';
import { type PruneResult, pruneLog } from '../../api/ops.js';
import { count, EXIT_ERROR, formatBytes, parseOffsetArg, UsageError } from '../output.js';
import { parseNumberArg, s3Target } from './archive.js';

interface PruneFlags {
  before?: string;
  retainDays?: string;
  endpoint?: string;
  yes?: boolean;
  execute?: boolean;
  allowEmpty?: boolean;
  json?: boolean;
}

function summary(r: PruneResult): string {
  const verb = r.executed ? 'deleted' : 'would delete';
  const lines = r.segments.map((s) => `${verb} segment ${s.segment} (offsets ${s.segment}..${s.end - 1}, ${formatBytes(s.bytes)} with its index file)`);
  const n = r.segments.length;
  lines.push(
    n === 0
      ? `nothing to prune: no sealed segment ends before offset ${r.before}`
      : `${verb} ${count(n, 'segment')}, ${formatBytes(r.bytes)} (segment and index files); the log now starts at segment ${r.firstKeptSegment}` +
          (r.executed ? '' : ' (dry run: add --yes to delete)'),
  );
  if (r.leavesEmpty) {
    lines.push(
      r.executed
        ? 'the log now holds NO commits'
        : 'this deletes EVERY commit: the kept segment holds none, the log would be EMPTY; that needs --allow-empty as well as --yes',
    );
  }
  return lines.join('\n');
}

function archiveSummary(r: PruneArchiveResult): string {
  const verb = r.executed ? 'deleted' : 'would delete';
  const lines = r.dropped.map((s) => {
    const bytes = s.zstd ? s.zstd.bytes : s.size;
    const at = s.archivedAt === undefined ? '' : `, last archived ${new Date(s.archivedAt).toISOString()}`;
    return `${verb} archived segment ${s.offset} (${formatBytes(bytes)}${at})`;
  });
  const first = r.manifest.segments[0]?.offset ?? (r.dropped.length > 0 ? r.dropped[r.dropped.length - 1]!.offset : 0);
  lines.push(
    r.dropped.length === 0
      ? `nothing to prune: no archived segment has all its commits archived before ${new Date(r.cutoff).toISOString()}`
      : `${verb} ${count(r.dropped.length, 'segment')}` + (r.executed ? `; the archive now starts at segment ${first}` : ' (dry run: add --yes to delete)'),
  );
  return lines.join('\n');
}

async function pruneS3(url: string, flags: PruneFlags): Promise<void> {
  if (flags.before !== undefined) throw new UsageError('an archive is pruned by age: use --retain-days, not --before');
  if (flags.retainDays === undefined) throw new UsageError('pruning an archive needs --retain-days <d>');
  const execute = flags.yes === true || flags.execute === true;
  const r = await pruneArchive(s3Target(url), {
    client: makeS3Client(flags.endpoint),
    retainDays: parseNumberArg(flags.retainDays, 'retain-days'),
    dryRun: !execute,
  });
  process.stdout.write((flags.json ? JSON.stringify({ executed: r.executed, cutoff: r.cutoff, dropped: r.dropped.map((s) => s.offset), objectsDeleted: r.objectsDeleted }) : archiveSummary(r)) + '\n');
}

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('delete whole sealed segments whose transactions all come before an offset (dry run by default)')
    .argument('<dir>', 'log directory, or an archive s3://BUCKET/PREFIX (with --retain-days)')
    .option('--before <offset>', 'delete segments that end before this transaction offset (a log directory)')
    .option('--retain-days <d>', 'an archive: delete segments whose commits were all archived more than d days ago')
    .option('--endpoint <url>', 'an archive: S3 endpoint (default AWS_ENDPOINT_URL)')
    .option('--yes', 'really delete (default: only show what would be deleted)')
    .option('--execute', 'same as --yes')
    .option('--allow-empty', 'also when no commit would be left (refused without it, even with --yes)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
A segment ends where the next one starts (its file name). The newest segment is never deleted, and
segments go oldest first, so an interrupted prune leaves a log without holes. Typical use: after a
snapshot at offset N, 'clog prune <dir> --before N --yes' drops what the snapshot covers. Deleting is
refused (exit 2) while a writer holds the log's lock file (commitlog.lock); a dry run never is. A prune
that leaves no commit (the newest segment, always kept, holds none) needs --allow-empty besides --yes.

An archive (s3://BUCKET/PREFIX, see 'clog archive') is pruned by age: --retain-days D deletes, oldest
first, the segments all of whose commits reached the archive more than D days ago, never the newest
one. Restoring to any commit archived within the last D days stays possible; a restore then starts at
the archive's first kept segment. The new manifest is put before any object is deleted.

Examples:
  clog prune ./db/clog --before 1000000
  clog prune ./db/clog --before 1000000 --yes
  clog prune s3://backups/db1 --retain-days 30 --yes`,
    )
    .action(async (dir: string, flags: PruneFlags) => {
      if (dir.startsWith('s3://')) return pruneS3(dir, flags);
      if (flags.before === undefined) throw new UsageError("required option '--before <offset>' not specified");
      if (flags.retainDays !== undefined) throw new UsageError('--retain-days applies to an archive (s3://...), not a log directory');
      const before = parseOffsetArg(flags.before, 'before');
      const execute = flags.yes === true || flags.execute === true;
      if (execute && !flags.allowEmpty) {
        const plan = pruneLog(dir, before);
        if (plan.leavesEmpty) {
          process.stdout.write((flags.json ? JSON.stringify(plan) : summary(plan)) + '\n');
          process.stderr.write(`clog: refusing to empty the log: pruning before ${before} deletes every commit; add --allow-empty (with --yes) if that is meant [CONFIRMATION_REQUIRED]\n`);
          process.exitCode = EXIT_ERROR;
          return;
        }
      }
      const result = pruneLog(dir, before, { execute, allowEmpty: flags.allowEmpty === true });
      process.stdout.write((flags.json ? JSON.stringify(result) : summary(result)) + '\n');
    });
}
