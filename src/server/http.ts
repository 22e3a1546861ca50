/**
 * A read-only HTTP server for a log directory (mirroring over the network). Uses only the public API.
 *
 *   GET /v1/meta                       → JSON { minCommittedOffset, maxCommittedOffset, epoch, segments }
 *   GET /v1/log?from=N[&to=M][&follow=1] → the raw commitlog byte stream of [N, M)
 *
 * Memory per connection is bounded by one stream chunk: the response is written with backpressure.
 */
import { timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import {
  InvalidCommitError,
  committedMeta,
  existingSegmentOffsets,
  followCommits,
  streamCommits,
  type TxRange,
} from '../index.js';
import { type SegmentMetadata } from '../api/ops.js';

export interface LogServerOptions {
  dir: string;
  /** Bearer token required on every request when set. */
  token?: string;
  /** Poll interval of `follow` streams, ms. */
  followPollMs?: number;
  /** Connections beyond this are refused by the socket layer. */
  maxConnections?: number;
}

export interface LogMeta {
  minCommittedOffset: number | null;
  maxCommittedOffset: number | null;
  epoch: number;
  segments: number[];
}

/** Longest accepted request target; longer ones get 414 before any parsing. */
const MAX_URL_LEN = 2048;
const OFFSET_RE = /^[0-9]{1,16}$/;

class BadRequest extends Error {}

/** Meta of a directory read without a writer; a torn newest commit counts as not yet there. */
export function logMeta(dir: string): LogMeta {
  const segments = existingSegmentOffsets(dir);
  let meta: SegmentMetadata | null;
  try {
    meta = committedMeta(dir);
  } catch (e) {
    if (!(e instanceof InvalidCommitError)) throw e;
    meta = e.sofar;
  }
  const max = meta && meta.txRange.end > 0 ? meta.txRange.end - 1 : null;
  return {
    minCommittedOffset: max === null ? null : segments[0]!,
    maxCommittedOffset: max,
    epoch: meta?.maxEpoch ?? 0,
    segments,
  };
}

function parseOffset(params: URLSearchParams, name: string): number | undefined {
  const all = params.getAll(name);
  if (all.length === 0) return undefined;
  if (all.length > 1) throw new BadRequest(`parameter ${name} given more than once`);
  const v = all[0]!;
  if (!OFFSET_RE.test(v)) throw new BadRequest(`parameter ${name} must be a non-negative integer`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new BadRequest(`parameter ${name} exceeds Number.MAX_SAFE_INTEGER`);
  return n;
}

function parseFollow(params: URLSearchParams): boolean {
  const v = params.get('follow');
  if (v === null || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true' || v === '') return true;
  throw new BadRequest('parameter follow must be 0 or 1');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function authorized(req: http.IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = Buffer.from(req.headers.authorization ?? '');
  const want = Buffer.from(`Bearer ${token}`);
  return given.length === want.length && timingSafeEqual(given, want);
}

async function streamLog(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: LogServerOptions,
  params: URLSearchParams,
): Promise<void> {
  const from = parseOffset(params, 'from') ?? 0;
  const to = parseOffset(params, 'to');
  const follow = parseFollow(params);
  for (const key of params.keys()) {
    if (key !== 'from' && key !== 'to' && key !== 'follow') throw new BadRequest(`unknown parameter ${key}`);
  }
  if (to !== undefined && to < from) throw new BadRequest('parameter to must not be below from');
  const range: TxRange = { start: from, end: to };
  if (to === from) {
    // [N, N) is empty; the library's `0..0` quirk (Q9) is not part of this API.
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 0 });
    res.end();
    return;
  }
  const abort = new AbortController();
  const onClose = (): void => abort.abort();
  res.on('close', onClose);
  const chunks = follow
    ? followCommits(options.dir, range, { pollMs: options.followPollMs, signal: abort.signal })
    : streamCommits(options.dir, range);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
  res.flushHeaders();
  try {
    for await (const chunk of chunks) {
      if (abort.signal.aborted) break;
      if (!res.write(chunk)) await drainOrClose(res);
    }
    res.end();
  } catch (e) {
    // Headers are out: the only way to report is to cut the stream short; the client's StreamWriter
    // sees a truncated commit or a clean end, never wrong bytes.
    res.destroy(e as Error);
  } finally {
    res.off('close', onClose);
    abort.abort();
  }
}

/** Resolves on 'drain' or 'close', whichever comes first, leaving no listener behind. */
function drainOrClose(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function createLogServer(options: LogServerOptions): http.Server {
  const server = http.createServer(async (req, res) => {
    try {
      if ((req.url ?? '').length > MAX_URL_LEN) return sendJson(res, 414, { error: 'request target too long' });
      if (!authorized(req, options.token)) {
        res.setHeader('www-authenticate', 'Bearer');
        return sendJson(res, 401, { error: 'missing or wrong bearer token' });
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET');
        return sendJson(res, 405, { error: 'method not allowed' });
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/v1/meta') return sendJson(res, 200, logMeta(options.dir));
      if (url.pathname === '/v1/log') return await streamLog(req, res, options, url.searchParams);
      return sendJson(res, 404, { error: 'not found' });
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof BadRequest) return sendJson(res, 400, { error: e.message });
      return sendJson(res, 500, { error: (e as Error).message });
    }
  });
  server.maxConnections = options.maxConnections ?? 256;
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // follow streams are long-lived
  return server;
}

/** Starts a server and resolves once it listens; `url` is its base address. */
export async function listen(
  options: LogServerOptions & { host?: string; port?: number },
): Promise<{ server: http.Server; url: string }> {
  const server = createLogServer(options);
  server.listen(options.port ?? 3000, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { server, url: `http://${host}:${addr.port}` };
}
