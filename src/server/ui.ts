/**
 * `clog ui`: a read-only web inspector. Serves a fixed set of static files (no URL path reaches the
 * filesystem) and a small JSON API, behind the same connection guard and bearer token as `clog serve`.
 */
import * as http from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dumpCommits, openLogDir } from '../api/ops.js';
import { InvalidInputError } from '../index.js';
import { ConnectionGuard } from './connection-guard.js';
import { LOG_SERVER_DEFAULTS, authorized, sendJson } from './http.js';
import { UiLive, type UiLiveOptions } from './ui-live.js';

export interface UiServerOptions {
  dir: string;
  token?: string;
  /** Live tail and verify streams (ui-live.ts). */
  live?: UiLiveOptions;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/live.js': { file: 'live.js', type: 'text/javascript; charset=utf-8' },
  '/chart.js': { file: 'chart.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/db.js': { file: 'db.js', type: 'text/javascript; charset=utf-8' },
  '/commit.js': { file: 'commit.js', type: 'text/javascript; charset=utf-8' },
};
/** Served by ui-db.ts, loaded on first use (it brings the replay layer). */
const DB_API_PATHS = new Set(['/api/database', '/api/rows', '/api/commit']);
const ASSET_DIR = new URL('../../../ui/', import.meta.url);
const MAX_PAGE = 500;
const COOKIE = 'clog_ui_token';

function tokenCookieOk(req: http.IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const cookies = (req.headers.cookie ?? '').split(';').map((c) => c.trim());
  return cookies.includes(`${COOKIE}=${encodeURIComponent(token)}`);
}

/** Parses a non-negative safe integer query parameter, or throws InvalidInputError (sent as 400). */
export function intParam(params: URLSearchParams, name: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = params.get(name);
  if (raw === null) return dflt;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) > max) throw new InvalidInputError(`parameter ${name} must be an integer in 0..${max}`);
  return Number(raw);
}

function commitsPage(dir: string, from: number, limit: number): unknown {
  const commits = [];
  let error: string | null = null;
  try {
    // The traversal seeks to `from` through the offset index: page N does not read from 0.
    for (const c of dumpCommits(dir, { from })) {
      commits.push(c);
      if (commits.length >= limit) break;
    }
  } catch (e) {
    error = (e as Error).message; // a damaged log: show what was read and where it stopped
  }
  return { from, limit, commits, error };
}

export function createUiServer(options: UiServerOptions): http.Server {
  openLogDir(options.dir); // a missing directory is refused, as for `clog serve`
  const live = new UiLive(options.dir, options.live);
  const guard = new ConnectionGuard({ maxConnections: LOG_SERVER_DEFAULTS.maxConnections, headersTimeoutMs: LOG_SERVER_DEFAULTS.headersTimeoutMs, maxPipelined: 16 });
  let db: Promise<import('./ui-db.js').DbRoutes> | null = null;
  const dbRoutes = () => (db ??= import('./ui-db.js').then((m) => new m.DbRoutes(options.dir)));
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    try {
      if ((req.url ?? '').length > 2048) return sendJson(res, 414, { error: 'request target too long' });
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' });
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!authorized(req, options.token) && !tokenCookieOk(req, options.token)) {
        if (options.token === undefined || url.searchParams.get('token') !== options.token) {
          res.setHeader('www-authenticate', 'Bearer');
          return sendJson(res, 401, { error: 'missing or wrong bearer token' });
        }
        // `?token=` once on the page URL: the page's own requests then carry it as a cookie.
        res.setHeader('set-cookie', `${COOKIE}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Strict; Path=/`);
      }
      const asset = ASSETS[url.pathname];
      if (asset) {
        res.writeHead(200, { 'content-type': asset.type, 'content-security-policy': "default-src 'self'", 'cache-control': 'no-cache' });
        res.end(readFileSync(new URL(asset.file, ASSET_DIR)));
        return;
      }
      if (url.pathname === '/api/overview') return sendJson(res, 200, live.overview());
      if (live.route(url, req, res)) return;
      if (url.pathname === '/api/commits') {
        const from = intParam(url.searchParams, 'from', 0);
        const limit = intParam(url.searchParams, 'limit', 50, MAX_PAGE);
        return sendJson(res, 200, commitsPage(options.dir, from, Math.max(1, limit)));
      }
      if (DB_API_PATHS.has(url.pathname)) return void dbRoutes().then((r) => r.handle(url, res), (e: Error) => sendJson(res, 500, { error: e.message }));
      return sendJson(res, 404, { error: 'not found' });
    } catch (e) {
      if (e instanceof InvalidInputError) return sendJson(res, 400, { error: e.message });
      return sendJson(res, 500, { error: (e as Error).message });
    }
  };
  const server = http.createServer((req, res) => guard.admit(req, res, () => handle(req, res)));
  server.on('connection', (socket) => guard.accept(socket));
  server.on('close', () => void db?.then((r) => r.close()));
  server.headersTimeout = LOG_SERVER_DEFAULTS.headersTimeoutMs;
  // `close` waits for open responses to end, and event streams never end by themselves: end them first.
  const close = server.close.bind(server);
  server.close = (cb?: (err?: Error) => void) => {
    live.close();
    return close(cb);
  };
  return server;
}

export async function listenUi(options: UiServerOptions & { host: string; port: number }): Promise<{ server: http.Server; url: string }> {
  const server = createUiServer(options);
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { server, url: `http://${host}:${addr.port}` };
}
