/** `clog archive DIR s3://…` and `clog restore s3://… DEST` (issue 14): incremental archive to S3. */
import type { Command } from 'commander';
import { archiveLog, makeS3Client, parseS3Url, restoreLog } from '../../api/archive.js';
import { count, formatBytes, parseOffsetArg, UsageError } from '../output.js';
import { ttyProgress } from './verify.js';

interface ArchiveFlags {
  endpoint?: string;
  follow?: boolean;
  interval: string;
}

function target(url: string) {
  if (!url.startsWith('s3://')) throw new UsageError(`expected an s3://BUCKET/PREFIX URL, got ${url}`);
  return parseS3Url(url);
}

export function registerArchive(program: Command): void {
  program
    .command('archive')
    .description('upload a log incrementally to S3 (only what is new since the last run)')
    .argument('<dir>', 'log directory')
    .argument('<url>', 's3://BUCKET/PREFIX')
    .option('--endpoint <url>', 'S3 endpoint (default AWS_ENDPOINT_URL; path-style addressing)')
    .option('--follow', 'keep archiving every --interval seconds')
    .option('--interval <s>', 'seconds between runs with --follow', '10')
    .action(async (dir: string, url: string, flags: ArchiveFlags) => {
      const t = target(url);
      const interval = parseOffsetArg(flags.interval, 'interval');
      const client = makeS3Client(flags.endpoint);
      for (;;) {
        const progress = ttyProgress('archive');
        const r = await archiveLog(dir, t, { client, onProgress: (p) => progress.update(p.objectsUploaded, p.objectsUploaded, `segment ${p.segment}`) });
        progress.stop();
        console.log(`archived ${count(r.objectsUploaded, 'object')} (${formatBytes(r.bytesUploaded)}); manifest generation ${r.manifest.generation}`);
        if (!flags.follow) return;
        await new Promise((res) => setTimeout(res, interval * 1000));
      }
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
      const t = target(url);
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
