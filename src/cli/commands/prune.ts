/** `clog prune <dir> --before <offset>`: deletes whole old segments; a dry run unless --yes. */
import type { Command } from 'commander';
import { type PruneResult, pruneLog } from '../../api/ops.js';
import { count, EXIT_ERROR, formatBytes, parseOffsetArg } from '../output.js';

interface PruneFlags {
  before: string;
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

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('delete whole sealed segments whose transactions all come before an offset (dry run by default)')
    .argument('<dir>', 'log directory')
    .requiredOption('--before <offset>', 'delete segments that end before this transaction offset')
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

Examples:
  clog prune ./db/clog --before 1000000
  clog prune ./db/clog --before 1000000 --yes`,
    )
    .action((dir: string, flags: PruneFlags) => {
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
