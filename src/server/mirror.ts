/**
 * Mirroring a log (remote over HTTP, or a local directory) into a local directory through
 * StreamWriter, resuming after what the destination already holds. Uses only the public API.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import {
  CommitlogError,
  ErrorCodes,
  DEFAULT_OPTIONS,
  InvalidInputError,
  type Options,
  StreamWriter,
  followCommits,
  streamCommits,
} from '../index.js';
import { type SourceLogOptions, openLogDir, sourceLogOptions } from '../api/ops.js';
import type { LogMeta } from './http.js';

export interface MirrorOptions {
  follow?: boolean;
  /** Cut a torn or corrupt tail of the destination (left by a killed mirror) instead of failing. */
  trim?: boolean;
  token?: string;
  /**
   * Options of the destination log. `maxSegmentSize` and `offsetIndexIntervalBytes` not given here
   * are the source's (its `/v1/meta`, or derived from a source directory), so that the index files
   * come out byte-identical.
   */
  logOptions?: Partial<Options>;
  /** Called after each commit is written, with its tx range. */
  onProgress?: (range: { start: number; end: number }, bytes: number) => void;
  signal?: AbortSignal;
  followPollMs?: number;
}

export interface MirrorResult {
  /** First offset requested from the source (the destination held everything before it). */
  from: number;
  /** Commits and bytes received. */
  commits: number;
  bytes: number;
  /** Last offset in the destination afterwards, null if it is empty. */
  lastOffset: number | null;
  /** The index options the destination was written with, and where they came from. */
  logOptions: { maxSegmentSize: number; offsetIndexIntervalBytes: number; from: SourceLogOptions['from'] };
}

export class MirrorError extends CommitlogError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(ErrorCodes.IO, message);
  }
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** `scheme://…`: meant as a URL, whatever the scheme (a path never looks like that in practice). */
export function hasUrlScheme(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

/**
 * Refuses what `mirror` cannot use before anything is created (issue 17 §1): a URL of another scheme
 * than http(s) (it would be taken as a relative path), a URL as destination, a missing source directory.
 */
export function checkMirrorArgs(source: string, dest: string): void {
  if (hasUrlScheme(source) && !isUrl(source)) {
    throw new InvalidInputError(`unsupported source ${source}: a mirror reads from http://, https:// or a log directory`);
  }
  if (hasUrlScheme(dest)) throw new InvalidInputError(`the destination must be a local directory, not ${dest}`);
  if (!isUrl(source)) openLogDir(source);
}

function request(url: string, token: string | undefined, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal }, resolve);
    req.on('error', reject);
  });
}

async function readBody(res: http.IncomingMessage, limit = 64 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) break;
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

async function failure(url: string, res: http.IncomingMessage): Promise<MirrorError> {
  const body = await readBody(res).catch(() => '');
  let detail = body;
  try {
    detail = (JSON.parse(body) as { error?: string }).error ?? body;
  } catch {
    // not JSON
  }
  return new MirrorError(`${url}: HTTP ${res.statusCode}${detail ? `: ${detail}` : ''}`, res.statusCode);
}

/** `GET /v1/meta` of a server. */
export async function fetchMeta(baseUrl: string, token?: string): Promise<LogMeta> {
  const url = `${baseUrl.replace(/\/+$/, '')}/v1/meta`;
  const res = await request(url, token);
  if (res.statusCode !== 200) throw await failure(url, res);
  return JSON.parse(await readBody(res, 16 * 1024 * 1024)) as LogMeta;
}

export async function mirror(source: string, dest: string, options: MirrorOptions = {}): Promise<MirrorResult> {
  checkMirrorArgs(source, dest);
  const logOptions = await destinationOptions(source, options);
  const destExisted = fs.existsSync(dest);
  let landed = false;
  try {
    const result = await copy(source, dest, options, logOptions.options, () => (landed = true));
    return { ...result, logOptions: logOptions.summary };
  } catch (e) {
    // A first mirror that failed before any commit landed leaves no empty destination behind.
    if (!destExisted && !landed) removeEmptyDest(dest);
    throw e;
  }
}

/**
 * The source's index options (its `/v1/meta`; a server before issue 17 publishes none: the defaults),
 * each overridden by `options.logOptions`. Fetching them first also means an unreachable server fails
 * the mirror before the destination is created.
 */
async function destinationOptions(
  source: string,
  options: MirrorOptions,
): Promise<{ options: Partial<Options>; summary: MirrorResult['logOptions'] }> {
  const given = options.logOptions ?? {};
  const src: SourceLogOptions | undefined = isUrl(source)
    ? (await fetchMeta(source, options.token)).logOptions
    : sourceLogOptions(source);
  const maxSegmentSize = given.maxSegmentSize ?? src?.maxSegmentSize;
  const offsetIndexIntervalBytes = given.offsetIndexIntervalBytes ?? src?.offsetIndexIntervalBytes;
  const from = {
    maxSegmentSize: given.maxSegmentSize !== undefined ? 'given' : (src?.from.maxSegmentSize ?? 'default'),
    offsetIndexIntervalBytes: given.offsetIndexIntervalBytes !== undefined ? 'given' : (src?.from.offsetIndexIntervalBytes ?? 'default'),
  } as const;
  const merged = { ...given, maxSegmentSize, offsetIndexIntervalBytes };
  const resolved = resolveDefaults(merged);
  return { options: merged, summary: { ...resolved, from } };
}

function resolveDefaults(o: Partial<Options>): { maxSegmentSize: number; offsetIndexIntervalBytes: number } {
  return {
    maxSegmentSize: o.maxSegmentSize ?? DEFAULT_OPTIONS.maxSegmentSize,
    offsetIndexIntervalBytes: o.offsetIndexIntervalBytes ?? DEFAULT_OPTIONS.offsetIndexIntervalBytes,
  };
}

/** Files a failed first mirror may leave: the lock, and a segment (with its index) holding no complete commit. */
const LEFTOVER_RE = /^(commitlog\.lock|[0-9]{20}\.stdb\.(log|ofs))$/;

function removeEmptyDest(dest: string): void {
  try {
    const names = fs.readdirSync(dest);
    // Anything else was put there by someone else meanwhile: leave it all.
    if (!names.every((n) => LEFTOVER_RE.test(n))) return;
    for (const n of names) fs.rmSync(path.join(dest, n), { force: true });
    fs.rmdirSync(dest);
  } catch {
    // best effort: the mirror's own error is the one to report
  }
}

async function copy(
  source: string,
  dest: string,
  options: MirrorOptions,
  logOptions: Partial<Options>,
  onLanded: () => void,
): Promise<Omit<MirrorResult, 'logOptions'>> {
  const writer = StreamWriter.create(dest, logOptions, options.trim ? 'trim' : 'error');
  try {
    const from = writer.lastWrittenRange?.end ?? 0;
    let chunks: AsyncIterable<Uint8Array>;
    if (isUrl(source)) {
      const url = `${source.replace(/\/+$/, '')}/v1/log?from=${from}${options.follow ? '&follow=1' : ''}`;
      const res = await request(url, options.token, options.signal);
      if (res.statusCode !== 200) throw await failure(url, res);
      chunks = res;
    } else if (options.follow) {
      chunks = followCommits(source, { start: from }, { signal: options.signal, pollMs: options.followPollMs });
    } else {
      chunks = streamCommits(source, { start: from });
    }
    let bytes = 0;
    let commits = 0;
    const counted = (async function* () {
      for await (const chunk of chunks) {
        bytes += chunk.length;
        yield chunk;
      }
    })();
    try {
      await writer.appendAll(counted, (range) => {
        commits += 1;
        onLanded();
        options.onProgress?.(range, bytes);
      });
    } catch (e) {
      // An abort (kill switch, Ctrl-C) of a follow stream is a normal end: keep what was written.
      if (!options.signal?.aborted) throw e;
    }
    await writer.syncAll().catch((e) => {
      if (!options.signal?.aborted) throw e;
    });
    const last = writer.lastWrittenRange;
    return { from, commits, bytes, lastOffset: last && last.end > 0 ? last.end - 1 : null };
  } finally {
    await writer.close();
  }
}
