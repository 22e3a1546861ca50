/**
 * Mirroring a log (remote over HTTP, or a local directory) into a local directory through
 * StreamWriter, resuming after what the destination already holds. Uses only the public API.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { CommitlogError, ErrorCodes, type Options, StreamWriter, followCommits, streamCommits } from '../index.js';
import type { LogMeta } from './http.js';

export interface MirrorOptions {
  follow?: boolean;
  /** Cut a torn or corrupt tail of the destination (left by a killed mirror) instead of failing. */
  trim?: boolean;
  token?: string;
  /** Options of the destination log; use the source's for byte-identical index files. */
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
  const writer = StreamWriter.create(dest, options.logOptions ?? {}, options.trim ? 'trim' : 'error');
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
