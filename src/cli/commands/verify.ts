/** `clog verify <dir>`: checks every segment, commit and index file; exit code 1 when problems were found. */
import type { Command } from 'commander';
import { type Problem, verifyLog } from '../../api/ops.js';
import { count, EXIT_PROBLEMS, noSegments, noteIfNoSegments, Progress } from '../output.js';
import { type SourceFlags, openLogSource, withSourceOptions } from '../source.js';

interface VerifyFlags extends SourceFlags {
  continue?: boolean;
  allowEmpty?: boolean;
  json?: boolean;
}

/**
 * A progress bar shown only on a terminal (stderr), created at the first update, when the total is
 * known. Pipes and files get no progress output.
 */
export function ttyProgress(label: string): { update(done: number, total: number, detail: string): void; stop(): void } {
  let bar: Progress | null = null;
  return {
    update(done, total, detail) {
      if (!process.stderr.isTTY) return;
      bar ??= new Progress(label, total);
      bar.update(done, detail);
    },
    stop: () => bar?.stop(),
  };
}

function describe(p: Problem): string {
  const where = [
    p.segment === null ? null : `segment ${p.segment}`,
    p.byteOffset === null ? null : `${p.kind === 'index' ? 'index byte' : 'byte'} ${p.byteOffset}`,
  ].filter((s) => s !== null);
  return `${where.length > 0 ? where.join(' ') + ': ' : ''}[${p.kind}] ${p.message}`;
}

export function registerVerify(program: Command): void {
  withSourceOptions(
    program
      .command('verify')
      .description('check every segment, commit and offset index file of a log')
      .argument('<dir>', 'log directory, or an archive s3://BUCKET/PREFIX'),
  )
    .option('--continue', 'go past problems to find them all (default: stop at the first)')
    .option('--allow-empty', 'accept a directory without segments (default: exit 1, nothing was verified)')
    .option('--json', 'print {"ok": bool, "commits": n, "segments": n, "empty": bool, "problems": [...]}')
    .addHelpText(
      'after',
      `
Checks segment names, headers and format versions, the checksum and sequence of every commit (gaps,
forks, duplicates, torn writes) and that every offset index entry points at its commit. Each problem
has a kind (checksum, out-of-order, fork, truncated, segment-name, segment-header, unsupported-version,
index), the segment (its first offset) and the byte offset in the segment (in the index file for
kind index).

A directory without segments (*.stdb.log) holds nothing to verify: it is reported, and exit 1 unless
--allow-empty (a new log that no writer has opened yet).

Exit codes: 0 the log is intact, 1 problems were found (or no segments), 2 usage or I/O error.

Examples:
  clog verify ./db/clog
  clog verify ./db/clog --continue
  clog verify ./db/clog --continue --json | jq '.problems[].kind'`,
    )
    .action((dir: string, flags: VerifyFlags) => {
      const source = openLogSource(dir, flags, { noteEmpty: false });
      const progress = ttyProgress('verify');
      let result;
      try {
        result = verifyLog(source, {
          continue: flags.continue,
          onSegment: (done, total, segment) => progress.update(done, total, `segment ${segment}`),
        });
      } finally {
        progress.stop();
      }
      // Checked after verifyLog, which refuses a missing directory first (exit 2).
      // The text output says it on stdout with the verdict; --json keeps stdout to the document.
      const empty = result.segments === 0 ? (flags.json ? noteIfNoSegments(source) : noSegments(source)) : null;
      const ok = result.ok && (empty === null || flags.allowEmpty === true);
      if (!ok) process.exitCode = EXIT_PROBLEMS;
      if (flags.json) {
        const doc = { ok, commits: result.commits, segments: result.segments, empty: empty !== null, problems: result.problems };
        process.stdout.write(JSON.stringify(doc) + '\n');
        return;
      }
      const lines = result.problems.map(describe);
      const n = result.problems.length;
      if (empty !== null && result.ok) {
        lines.push(flags.allowEmpty ? `ok: ${empty}; accepted (--allow-empty)` : `not verified: ${empty} (--allow-empty accepts that)`);
      } else if (result.ok) {
        lines.push(`ok: ${count(result.commits, 'commit')} verified, no problems`);
      } else {
        const stopped = flags.continue ? '' : ' (stopped at the first; --continue finds them all)';
        lines.push(`${count(n, 'problem')} found${stopped}; ${count(result.commits, 'commit')} verified`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
