/**
 * A read-only HTTP server for a log directory (mirroring over the network). Uses only the public API.
 *
 *   GET /v1/meta                       → JSON { minCommittedOffset, maxCommittedOffset, epoch, segments, logOptions }
 *   GET /v1/log?from=N[&to=M][&follow=1] → the raw commitlog byte stream of [N, M)
 *
 * Memory per stream is bounded by its few chunk buffers: the response is written with backpressure, and
 * a client that takes nothing for `stallTimeoutMs` is cut off. The limits on connections, streams,
 * headers and pipelining are described at `LogServerOptions` and in connection-guard.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import {
  InvalidCommitError,
  InvalidInputError,
  committedMeta,
  existingSegmentOffsets,
  followCommits,
  streamCommits,
  type TxRange,
} from '../index.js';
import { type SegmentMetadata, type SourceLogOptions, openLogDir, sourceLogOptions } from '../api/ops.js';
import { ConnectionGuard } from './connection-guard.js';

export interface LogServerOptions {
  dir: string;
  /** Bearer token required on every request when set. */
  token?: string;
  /** Poll interval of `follow` streams, ms. */
  followPollMs?: number;
  /**
   * Open connections at most (default 256). At the cap, a new connection closes the oldest one with no
   * response in flight (sending its headers, or idle); it is refused only when every one has a response
   * in flight, which `maxStreams` below the cap prevents.
   */
  maxConnections?: number;
  /** Concurrent `/v1/log` streams at most (default 128); beyond, `503` with `Retry-After` at once. */
  maxStreams?: number;
  /**
   * A connection with no request in flight must complete a request's headers within this many ms of
   * connecting or of its previous response (default 10 000); else it is closed (`408` if it had started).
   */
  headersTimeoutMs?: number;
  /** A `/v1/log` stream whose client accepts no chunk for this many ms is closed (default 30 000). */
  stallTimeoutMs?: number;
  /** Size of a stream's buffers, bytes (default 64 KiB): a stream holds about three (`StreamReadOptions.chunkLen`). */
  streamChunkBytes?: number;
  /**
   * The log's writer options, published in `/v1/meta` so that mirrors write identical index files.
   * What is not given is derived from the log's index files (`sourceLogOptions`).
   */
  logOptions?: { maxSegmentSize?: number; offsetIndexIntervalBytes?: number };
}

/** The defaults of the limits in `LogServerOptions`. */
export const LOG_SERVER_DEFAULTS = {
  maxConnections: 256,
  maxStreams: 128,
  headersTimeoutMs: 10_000,
  stallTimeoutMs: 30_000,
  streamChunkBytes: 64 * 1024,
} as const;

/**
 * Pipelined requests a connection may have waiting behind the one in flight. Clients that pipeline
 * send a handful; thousands are an attack, and each waiting request costs a parsed request object.
 */
const MAX_PIPELINED = 16;
/** Seconds a client refused for lack of a stream slot is asked to wait. */
const RETRY_AFTER_S = 5;

/** What a running server reports about its limits (for operators and tests). */
export interface LogServerStats {
  connections: number;
  streams: number;
  /** Streams refused with 503, and streams closed because their client stalled. */
  streamsRefused: number;
  streamsStalled: number;
  /** Connections closed by the connection guard, by reason. */
  closed: { evicted: number; refused: number; headersTimeout: number; pipelined: number };
}

const statsOf = new WeakMap<http.Server, () => LogServerStats>();

/** The limits' counters of a server made by `createLogServer`. */
export function logServerStats(server: http.Server): LogServerStats {
  const get = statsOf.get(server);
  if (get === undefined) throw new InvalidInputError('not a server made by createLogServer');
  return get();
}

export interface LogMeta {
  minCommittedOffset: number | null;
  maxCommittedOffset: number | null;
  epoch: number;
  segments: number[];
  /**
   * The writer options of the log (given to the server, or derived from its index files) that a
   * mirror needs for byte-identical index files. Absent from servers before issue 17.
   */
  logOptions?: SourceLogOptions;
}

/** Longest accepted request target; longer ones get 414 before any parsing. */
const MAX_URL_LEN = 2048;
const OFFSET_RE = /^[0-9]{1,16}$/;

class BadRequest extends Error {}

/** `sourceLogOptions` of a log, recomputed only when its newest segment changes (it reads index files and scans a little). */
interface OptionsCache {
  segment: number | undefined;
  value: SourceLogOptions;
}

/** Meta of a directory read without a writer; a torn newest commit counts as not yet there. */
export function logMeta(dir: string, logOptions?: LogServerOptions['logOptions'], cache?: { current: OptionsCache | null }): LogMeta {
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
    logOptions: cachedOptions(dir, segments[segments.length - 1], logOptions, cache),
  };
}

function cachedOptions(
  dir: string,
  newest: number | undefined,
  given: LogServerOptions['logOptions'],
  cache: { current: OptionsCache | null } | undefined,
): SourceLogOptions {
  if (cache?.current && cache.current.segment === newest && newest !== undefined) return cache.current.value;
  const value = sourceLogOptions(dir, given);
  if (cache) cache.current = { segment: newest, value };
  return value;
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

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const BEARER_RE = /^bearer +(\S+)$/i;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Two `Authorization` headers are a 400 (Node would silently keep the first); the scheme is case-insensitive (RFC 9110 §11.1). */
export function authorized(req: http.IncomingMessage, token: string | undefined): boolean {
  const all = req.headersDistinct.authorization ?? [];
  if (all.length > 1) throw new BadRequest('Authorization header given more than once');
  if (token === undefined) return true;
  const m = BEARER_RE.exec(all[0] ?? '');
  // Hashes have one length whatever was sent, so the comparison leaks neither content nor length.
  return m !== null && timingSafeEqual(sha256(m[1]!), sha256(token));
}

interface StreamSlots {
  active: number;
  refused: number;
  stalled: number;
}

async function streamLog(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: Required<Omit<LogServerOptions, 'token' | 'followPollMs' | 'logOptions'>> & LogServerOptions,
  slots: StreamSlots,
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
  if (req.method === 'HEAD') {
    // The headers a GET would get; the length is not known without reading the log, so none is read.
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
    res.end();
    return;
  }
  // Counted before any reader exists, and in the same tick as the check: no two requests can both
  // take the last slot.
  if (slots.active >= options.maxStreams) {
    slots.refused++;
    res.setHeader('retry-after', String(RETRY_AFTER_S));
    return sendJson(res, 503, { error: `too many log streams (${options.maxStreams}), retry later` });
  }
  slots.active++;
  const abort = new AbortController();
  const onClose = (): void => abort.abort();
  res.once('close', onClose);
  req.socket.once('close', onClose);
  try {
    const chunkLen = options.streamChunkBytes;
    const chunks = follow
      ? followCommits(options.dir, range, { pollMs: options.followPollMs, signal: abort.signal, chunkLen })
      : streamCommits(options.dir, range, { chunkLen });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
    res.flushHeaders();
    // `for await` closes the generator (and with it the segment file) on break and throw.
    for await (const chunk of chunks) {
      if (abort.signal.aborted) break;
      if (res.write(chunk)) continue;
      const outcome = await drained(res, abort.signal, options.stallTimeoutMs);
      if (outcome === 'stalled') {
        slots.stalled++;
        res.destroy();
        break;
      }
      if (outcome === 'closed') break;
    }
    if (!abort.signal.aborted) res.end();
  } catch (e) {
    // Headers are out: the only way to report is to cut the stream short; the client's StreamWriter
    // sees a truncated commit or a clean end, never wrong bytes.
    res.destroy(e as Error);
  } finally {
    res.off('close', onClose);
    req.socket.off('close', onClose);
    abort.abort();
    slots.active--;
  }
}

/**
 * Waits for 'drain', the end of the connection, or `stallMs` without the client taking the chunk,
 * whichever comes first, and leaves no listener or timer behind.
 */
function drained(res: http.ServerResponse, signal: AbortSignal, stallMs: number): Promise<'drain' | 'closed' | 'stalled'> {
  if (signal.aborted) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const finish = (outcome: 'drain' | 'closed' | 'stalled'): void => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onDrain = (): void => finish('drain');
    const onAbort = (): void => finish('closed');
    const timer = setTimeout(() => finish('stalled'), stallMs);
    res.on('drain', onDrain);
    signal.addEventListener('abort', onAbort);
  });
}

function checkLimit(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`option ${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

export function createLogServer(options: LogServerOptions): http.Server {
  const limits = {
    maxConnections: checkLimit('maxConnections', options.maxConnections ?? LOG_SERVER_DEFAULTS.maxConnections, 2, 1_000_000),
    maxStreams: checkLimit('maxStreams', options.maxStreams ?? LOG_SERVER_DEFAULTS.maxStreams, 1, 1_000_000),
    headersTimeoutMs: checkLimit('headersTimeoutMs', options.headersTimeoutMs ?? LOG_SERVER_DEFAULTS.headersTimeoutMs, 1, 3_600_000),
    stallTimeoutMs: checkLimit('stallTimeoutMs', options.stallTimeoutMs ?? LOG_SERVER_DEFAULTS.stallTimeoutMs, 1, 86_400_000),
    streamChunkBytes: checkLimit('streamChunkBytes', options.streamChunkBytes ?? LOG_SERVER_DEFAULTS.streamChunkBytes, 4096, 16 * 1024 * 1024),
  };
  // Streams never give their connection up to a newcomer: if they could fill the cap, `/v1/meta` and
  // everyone else would be refused again.
  if (limits.maxStreams >= limits.maxConnections) {
    throw new InvalidInputError(`option maxStreams (${limits.maxStreams}) must be below maxConnections (${limits.maxConnections})`);
  }
  // A missing directory is refused here, not served as an empty log (issue 17 §2); the readers
  // would otherwise create it.
  openLogDir(options.dir);
  const full = { ...options, ...limits };
  const optionsCache: { current: OptionsCache | null } = { current: null };
  const slots: StreamSlots = { active: 0, refused: 0, stalled: 0 };
  const guard = new ConnectionGuard({ maxConnections: limits.maxConnections, headersTimeoutMs: limits.headersTimeoutMs, maxPipelined: MAX_PIPELINED });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      if ((req.url ?? '').length > MAX_URL_LEN) return sendJson(res, 414, { error: 'request target too long' });
      if (!authorized(req, options.token)) {
        res.setHeader('www-authenticate', 'Bearer');
        return sendJson(res, 401, { error: 'missing or wrong bearer token' });
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return sendJson(res, 405, { error: 'method not allowed' });
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/v1/meta') return sendJson(res, 200, logMeta(options.dir, options.logOptions, optionsCache));
      if (url.pathname === '/v1/log') return await streamLog(req, res, full, slots, url.searchParams);
      return sendJson(res, 404, { error: 'not found' });
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof BadRequest) return sendJson(res, 400, { error: e.message });
      return sendJson(res, 500, { error: (e as Error).message });
    }
  };

  const server = http.createServer((req, res) => guard.admit(req, res, () => void handle(req, res)));
  // The guard caps connections itself (Node's `maxConnections` refuses newcomers, whoever holds the places).
  server.on('connection', (socket) => guard.accept(socket));
  // Node's own checks stay as a backstop; the guard's timer enforces the value.
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = 0; // follow streams are long-lived
  statsOf.set(server, () => ({
    connections: guard.size,
    streams: slots.active,
    streamsRefused: slots.refused,
    streamsStalled: slots.stalled,
    closed: { ...guard.closed },
  }));
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
