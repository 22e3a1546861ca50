/**
 * The log a read command names (issue 14, reading in place): a directory, or an archive
 * `s3://BUCKET/PREFIX` opened as a read-only `S3Repo` (its manifest fetched once, at open). Every read
 * command goes through `openLogSource`, so they all take both the same way.
 */
import { debuglog } from 'node:util';
import type { Command } from 'commander';
import { openS3Repo } from '../api/archive.js';
import type { LogSource } from '../index.js';
import { UsageError, noteIfNoSegments } from './output.js';

const debug = debuglog('commitlog');

export interface SourceFlags {
  endpoint?: string;
}

export function isS3Url(arg: string): boolean {
  return arg.startsWith('s3://');
}

/** Adds `--endpoint` (for an s3:// source) to a read command. */
export function withSourceOptions(cmd: Command): Command {
  return cmd.option('--endpoint <url>', 'S3 endpoint for an s3:// source (default AWS_ENDPOINT_URL; path-style addressing)');
}

/**
 * A directory is passed on as its path (the library opens it and names it in messages as before); an
 * s3:// URL is opened here. An archive without segments is noted on stderr, as the preAction hook does
 * for a directory (`noteEmpty: false` for commands that say it themselves).
 */
export function openLogSource(arg: string, flags: SourceFlags = {}, options: { noteEmpty?: boolean } = {}): LogSource {
  if (!isS3Url(arg)) {
    if (flags.endpoint !== undefined) throw new UsageError(`--endpoint applies to s3:// sources, not to the directory ${arg}`);
    return arg;
  }
  const repo = openS3Repo(arg, { endpoint: flags.endpoint });
  // `NODE_DEBUG=commitlog` shows what reading the archive cost, as `clog` exits.
  if (debug.enabled) process.once('exit', () => debug('%s: %d GET requests, %d bytes', String(repo), repo.stats.requests, repo.stats.bytes));
  if (options.noteEmpty !== false) noteIfNoSegments(repo);
  return repo;
}

/** An archive is a snapshot taken at open: following it would wait for commits that never come. */
export function refuseFollow(arg: string, follow: boolean | undefined, command: string): void {
  if (follow && isS3Url(arg)) {
    throw new UsageError(`${command} --follow reads a directory being written; an s3:// archive is a snapshot (archive again, then re-run)`);
  }
}
