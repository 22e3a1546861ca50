/**
 * The live parts of `clog ui`, apart from the static routes of ui.ts:
 *
 *   GET /api/live              → event stream: `hello` {next}, then `commits` {commits, next, truncated}
 *                                whenever the log grows (by any process), `problem` {message} for damage
 *   GET /api/verify            → event stream: `started`, `progress` …, then `result` (VerifyResult) or `failed`
 *   GET /api/tail?limit=L      → JSON {commits, next, error}: the last L commits (L ≤ 500)
 *   /api/overview              → `logInfo`, each segment's part cached until its segment or index file changes
 *
 * One `LogWatcher` polls the directory for all live streams, and runs only while one is open.
 */
import type * as http from 'node:http';
import { type LogInfo, lastCommits } from '../api/ops.js';
import { InvalidInputError } from '../index.js';
import { sendJson } from './http.js';
import { SseHub, type SseStream } from './ui-sse.js';
import { VerifyRunner } from './ui-verify.js';
import { LogWatcher, OverviewCache } from './ui-watch.js';

export interface UiLiveOptions {
  /** How often the log directory is looked at for growth, ms (default 300). */
  pollMs?: number;
  /** Open event streams (live and verify together) at most (default 32; well below the connection cap). */
  maxStreams?: number;
  /** Heartbeat comment interval of event streams, ms (default 15 000). */
  heartbeatMs?: number;
}

export const UI_LIVE_DEFAULTS = { pollMs: 300, maxStreams: 32, heartbeatMs: 15_000 } as const;

/** Unsent bytes a slow event stream may hold before it is cut off: a few hundred batches. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Commits in one `commits` event at most; a page fetches the rest (`truncated`). */
const MAX_BATCH = 200;
/** Commits one poll reads at most: catching up with a fast writer is spread over polls. */
const MAX_READ_PER_POLL = 5_000;
const MAX_TAIL = 500;

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`option ${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

function onlyParams(params: URLSearchParams, allowed: readonly string[]): void {
  for (const key of params.keys()) {
    // `token` is the page's own (`?token=` is accepted on every route).
    if (key !== 'token' && !allowed.includes(key)) throw new InvalidInputError(`unknown parameter ${key}`);
  }
}

export class UiLive {
  private readonly hub: SseHub;
  private readonly watcher: LogWatcher;
  private readonly verify: VerifyRunner;
  private readonly overviewCache: OverviewCache;
  private readonly live = new Set<SseStream>();

  constructor(
    private readonly dir: string,
    options: UiLiveOptions = {},
  ) {
    const pollMs = checkInt('pollMs', options.pollMs ?? UI_LIVE_DEFAULTS.pollMs, 10, 60_000);
    const maxStreams = checkInt('maxStreams', options.maxStreams ?? UI_LIVE_DEFAULTS.maxStreams, 1, 10_000);
    const heartbeatMs = checkInt('heartbeatMs', options.heartbeatMs ?? UI_LIVE_DEFAULTS.heartbeatMs, 10, 3_600_000);
    this.hub = new SseHub({ maxStreams, heartbeatMs, maxBufferedBytes: MAX_BUFFERED_BYTES });
    this.watcher = new LogWatcher(
      dir,
      { pollMs, maxBatch: MAX_BATCH, maxReadPerPoll: MAX_READ_PER_POLL },
      (batch) => this.broadcast('commits', batch),
      (message) => this.broadcast('problem', { message }),
    );
    this.verify = new VerifyRunner(dir);
    this.overviewCache = new OverviewCache(dir);
  }

  /** Open event streams and the verify runs started (for tests and operators). */
  get stats(): { streams: number; refused: number; verifyRuns: number; overviewSegmentsRead: number; watching: boolean } {
    return {
      streams: this.hub.size,
      refused: this.hub.refused,
      verifyRuns: this.verify.started,
      overviewSegmentsRead: this.overviewCache.segmentsRead,
      watching: this.watcher.running,
    };
  }

  overview(): LogInfo {
    return this.overviewCache.get();
  }

  /** Answers the request if it is one of this module's routes; false otherwise. */
  route(url: URL, req: http.IncomingMessage, res: http.ServerResponse): boolean {
    switch (url.pathname) {
      case '/api/live':
        onlyParams(url.searchParams, []);
        this.openLive(req, res);
        return true;
      case '/api/verify':
        onlyParams(url.searchParams, []);
        this.openVerify(req, res);
        return true;
      case '/api/tail': {
        onlyParams(url.searchParams, ['limit']);
        const raw = url.searchParams.get('limit') ?? '50';
        if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_TAIL) {
          throw new InvalidInputError(`parameter limit must be an integer in 1..${MAX_TAIL}`);
        }
        const last = lastCommits(this.dir, Number(raw));
        sendJson(res, 200, { commits: last.commits, next: last.nextOffset, error: last.error?.message ?? null });
        return true;
      }
      default:
        return false;
    }
  }

  /** Ends every event stream and the verify run: the server's close does not wait for them. */
  close(): void {
    this.verify.stop();
    this.watcher.stop();
    this.hub.closeAll();
  }

  private openLive(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method === 'HEAD') return this.headOnly(res);
    // Read before the stream opens, so that a log that cannot be read gets a status, not a broken stream.
    const next = this.watcher.next();
    const stream = this.hub.open(res);
    if (stream === null) return;
    this.live.add(stream);
    stream.onClose(() => {
      this.live.delete(stream);
      if (this.live.size === 0) this.watcher.stop();
    });
    stream.send('hello', { next });
    this.watcher.start();
  }

  private openVerify(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method === 'HEAD') return this.headOnly(res);
    const stream = this.hub.open(res);
    if (stream === null) return;
    this.verify.watch(stream);
  }

  private headOnly(res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
    res.end();
  }

  private broadcast(event: string, data: unknown): void {
    for (const s of this.live) s.send(event, data);
  }
}
