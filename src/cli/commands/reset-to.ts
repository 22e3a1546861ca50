/** `clog reset-to <dir> <offset> --yes`: discards every commit after the one holding `offset`. */
import type { Command } from 'commander';
import { type ResetPlan, planResetTo, resetLog } from '../../api/ops.js';
import { EXIT_ERROR, formatBytes, parseOffsetArg } from '../output.js';

interface ResetFlags {
  yes?: boolean;
  allowEmpty?: boolean;
  json?: boolean;
}

function describePlan(p: ResetPlan, done: boolean): string[] {
  const will = (now: string, later: string): string => (done ? now : later);
  const lines: string[] = [];
  for (const s of p.removeSegments) lines.push(`${will('removed', 'remove')} segment ${s}`);
  if (p.truncate) {
    const t = p.truncate;
    lines.push(
      `${will('cut', 'cut')} segment ${t.segment} from ${formatBytes(t.size)} to ${formatBytes(t.newSize)}` +
        (t.compressed ? ' (it is compressed: it is rewritten uncompressed first)' : ''),
    );
  }
  lines.push(`last offset: ${p.maxOffsetBefore ?? 'none'} -> ${p.maxOffsetAfter ?? 'none'}`);
  if (p.leavesEmpty) {
    lines.push(
      done
        ? 'the log is now EMPTY: every segment was removed'
        : `this removes EVERY segment: the log would be EMPTY (offset ${p.offset} is before its first commit); ` +
            'that needs --allow-empty as well as --yes',
    );
  }
  if (p.damage) lines.push(`damaged commit at ${p.damage}`);
  return lines;
}

export function registerResetTo(program: Command): void {
  program
    .command('reset-to')
    .description('discard everything after a transaction offset (whole commits are kept)')
    .argument('<dir>', 'log directory')
    .argument('<offset>', 'last transaction offset to keep')
    .option('--yes', 'really do it (without it: show what would be discarded and refuse)')
    .option('--allow-empty', 'also when that removes every segment (refused without it, even with --yes)')
    .option('--json', 'print the plan and outcome as JSON')
    .addHelpText(
      'after',
      `
Keeps every transaction up to <offset> plus the rest of the commit holding it; later segments are
deleted and the segment holding <offset> is cut at the commit boundary (the library's resetTo).
Without --yes nothing changes and the exit code is 2. A reset that leaves no commit at all (an offset
before the log's first) needs --allow-empty besides --yes; without it: refused, exit 2. Refused (exit 2) while a writer holds the log's
lock file (commitlog.lock), and when a damaged commit lies between the cut and the next commit: resetTo
(like the reference) cannot read past it.

Examples:
  clog reset-to ./db/clog 41999            # show what would go
  clog reset-to ./db/clog 41999 --yes`,
    )
    .action((dir: string, offsetArg: string, flags: ResetFlags) => {
      const offset = parseOffsetArg(offsetArg);
      const plan = planResetTo(dir, offset);
      if (!plan.changes) {
        const msg = `nothing after offset ${offset} (last offset ${plan.maxOffsetBefore ?? 'none'}): nothing to do`;
        process.stdout.write((flags.json ? JSON.stringify({ ...plan, executed: false }) : msg) + '\n');
        return;
      }
      const show = (): void => {
        process.stdout.write((flags.json ? JSON.stringify({ ...plan, executed: false }) : describePlan(plan, false).join('\n')) + '\n');
      };
      if (plan.damage) {
        // resetTo would throw at the damage after deleting the newer segments: refuse before touching anything.
        show();
        process.stderr.write(
          `clog: cannot reset to ${offset}: resetTo reads up to the first commit after it and cannot read past the damaged ` +
            `commit at ${plan.damage.replace(/:.*$/, '')}; choose an offset at least one commit before the damage [RESET_PAST_DAMAGE]\n`,
        );
        process.exitCode = EXIT_ERROR;
        return;
      }
      if (!flags.yes) {
        show();
        process.stderr.write('clog: refusing to discard data without --yes [CONFIRMATION_REQUIRED]\n');
        process.exitCode = EXIT_ERROR;
        return;
      }
      if (plan.leavesEmpty && !flags.allowEmpty) {
        show();
        process.stderr.write(
          `clog: refusing to empty the log: resetting to ${offset} removes every segment (the log starts at ${plan.removeSegments[plan.removeSegments.length - 1]}); ` +
            'add --allow-empty (with --yes) if that is meant [CONFIRMATION_REQUIRED]\n',
        );
        process.exitCode = EXIT_ERROR;
        return;
      }
      const done = resetLog(dir, offset, { allowEmpty: flags.allowEmpty === true });
      process.stdout.write((flags.json ? JSON.stringify({ ...done, executed: true }) : describePlan(done, true).join('\n')) + '\n');
    });
}
