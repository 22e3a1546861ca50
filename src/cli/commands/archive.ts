/** `clog archive DIR s3://…` and `clog restore s3://… DEST` (issue 14): incremental archive to S3. */
import type { Command } from 'commander';
import { archiveLog, makeS3Client, parseS3Url, restoreLog, type ArchiveResult } from '../../api/archive.js';
import { count, formatBytes, parseOffsetArg, UsageError } from '../output.js';
import { ttyProgress } from './verify.js';

interface ArchiveFlags {
  endpoint?: string;
  follow?: boolean;
  interval: string;
  compress?: boolean;
  retainDays?: string;
}

export function s3Target(url: string) {
  if (!url.startsWith('s3://')) throw new UsageError(`expected an s3://BUCKET/PREFIX URL, got ${url}`);
  return parseS3Url(url);
}

/** A non-negative decimal number (`0.2`, `30`, `7`); `positive` refuses 0. */
export function parseNumberArg(value: string, name: string, positive = false): number {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new UsageError(`--${name} must be a non-negative number, got '${value}'`);
  const n = Number(value);
  if (positive && n === 0) throw new UsageError(`--${name} must be greater than 0`);
  return n;
}

function summary(r: ArchiveResult): string {
  const pruned = r.prunedSegments.length > 0 ? `; pruned ${count(r.prunedSegments.length, 'segment')}` : '';
  const deleted = r.objectsDeleted > 0 ? `; deleted ${count(r.objectsDeleted, 'object')}` : '';
  return `archived ${count(r.objectsUploaded, 'object')} (${formatBytes(r.bytesUploaded)}); manifest generation ${r.manifest.generation}${pruned}${deleted}`;
}

/**
 * Runs `once` until SIGINT/SIGTERM (a second signal exits at once). A signal never interrupts a run:
 * the run in progress finishes (its manifest is put last), then the loop ends.
 */
async function followUntilSignal(intervalMs: number, once: () => Promise<void>): Promise<void> {
  let stopping = false;
  let wake: (() => void) | null = null;
  const onSignal = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    while (!stopping) {
      await once();
      if (stopping) break;
      await new Promise<void>((res) => {
        const t = setTimeout(res, intervalMs);
        wake = () => {
          clearTimeout(t);
          res();
        };
      });
      wake = null;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerArchive(program: Command): void {
  program
    .command('archive')
    .description('upload a log incrementally to S3 (only what is new since the last run)')
    .argument('<dir>', 'log directory')
    .argument('<url>', 's3://BUCKET/PREFIX')
    .option('--endpoint <url>', 'S3 endpoint (default AWS_ENDPOINT_URL; path-style addressing)')
    .option('--follow', 'keep archiving every --interval seconds, until SIGINT or SIGTERM')
    .option('--interval <s>', 'seconds between runs with --follow (decimals allowed)', '10')
    .option('--compress', 'upload each sealed segment once as a seekable zstd object')
    .option('--retain-days <d>', 'after each run, delete whole segments whose commits were all archived more than d days ago')
    .addHelpText(
      'after',
      `
The directory is only read (no lock is taken): a writer may keep appending; each run uploads the new
complete commits of every segment as one part object, or with --compress a sealed segment as one zstd
object, then puts manifest.json last. See 'clog restore' and 'clog prune s3://...'.

Examples:
  clog archive ./db/clog s3://backups/db1 --follow --interval 5 --compress --retain-days 30`,
    )
    .action(async (dir: string, url: string, flags: ArchiveFlags) => {
      const t = s3Target(url);
      const interval = parseNumberArg(flags.interval, 'interval', true);
      const retainDays = flags.retainDays === undefined ? undefined : parseNumberArg(flags.retainDays, 'retain-days');
      const client = makeS3Client(flags.endpoint);
      let runs = 0;
      const once = async (): Promise<void> => {
        const progress = ttyProgress('archive');
        const r = await archiveLog(dir, t, {
          client,
          compress: flags.compress === true,
          ...(retainDays !== undefined ? { retainDays } : {}),
          onProgress: (p) => progress.update(p.objectsUploaded, p.objectsUploaded, `segment ${p.segment}`),
        });
        progress.stop();
        // With --follow, only runs that changed something are worth a line.
        if (runs++ === 0 || r.objectsUploaded > 0 || r.objectsDeleted > 0 || !flags.follow) console.log(summary(r));
      };
      if (!flags.follow) return once();
      await followUntilSignal(interval * 1000, once);
      console.log(`stopped after ${count(runs, 'run')}`);
    });
  program
    .command('restore')
    .description('rebuild a log from an S3 archive, verifying every commit')
    .argument('<url>', 's3://BUCKET/PREFIX')
    .argument('<dest>', 'destination directory (must not exist or be empty)')
    .option('--at <n>', 'restore only up to transaction offset n')
    .option('--endpoint <url>', 'S3 endpoint (default AWS_ENDPOINT_URL)')
    .option('--force', 'restore into a non-empty directory')
    .action(async (url: string, dest: string, flags: { at?: string; endpoint?: string; force?: boolean }) => {
      const t = s3Target(url);
      const progress = ttyProgress('restore');
      const r = await restoreLog(t, dest, {
        client: makeS3Client(flags.endpoint),
        ...(flags.at !== undefined ? { at: parseOffsetArg(flags.at, 'at') } : {}),
        force: flags.force ?? false,
        onProgress: (p) => progress.update(p.bytesDownloaded, p.bytesDownloaded, `segment ${p.segment}`),
      });
      progress.stop();
      console.log(`restored ${count(r.segments, 'segment')} (${formatBytes(r.bytes)}) to ${dest}`);
    });
}
