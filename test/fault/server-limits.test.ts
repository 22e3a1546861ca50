/**
 * The server's limits under slow, stalled and pipelining clients (issue 16 §4). `clog serve` runs in a
 * child process with small limits so that RSS and open descriptors are read from /proc. Needs the build.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commitlog } from '../../src/index.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/cli/main.js');
const MB = 1024 * 1024;
/** Well above what a non-reading client's socket buffers take in (~4 MB on loopback). */
const LOG_BYTES = 24 * MB;

let dir: string;
const children: ChildProcess[] = [];

interface Served {
  child: ChildProcess;
  url: string;
  port: number;
}

async function serve(...flags: string[]): Promise<Served> {
  const child = spawn(process.execPath, [MAIN, 'serve', dir, '--port', '0', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('serve did not start')), 10_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /^listening on (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:/); // loopback without --host
  return { child, url, port: Number(new URL(url).port) };
}

const rss = (s: Served): number => Number(/^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${s.child.pid}/status`, 'utf8'))![1]) * 1024;
const fds = (s: Served): number => fs.readdirSync(`/proc/${s.child.pid}/fd`).length;
const rchar = (s: Served): number => Number(/^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${s.child.pid}/io`, 'utf8'))![1]);

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!what() && Date.now() < end) await sleep(50);
  return what();
}

/** A GET of /v1/meta on a fresh connection: its status (or error code) and how long it took. */
function meta(s: Served, headers: http.OutgoingHttpHeaders = {}, target = '/v1/meta', method = 'GET'): Promise<{ status: number | string; ms: number; headers: http.IncomingHttpHeaders }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const req = http.request(`${s.url}${target}`, { agent: false, headers, method }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, ms: Date.now() - t0, headers: res.headers }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? 'error', ms: Date.now() - t0, headers: {} }));
    req.end();
  });
}

/** A raw socket that sends `bytes`, records the first status code it gets, then stops reading. */
function stalled(s: Served, bytes: string): { sock: net.Socket; status: () => string; closed: () => boolean } {
  const sock = net.connect(s.port, '127.0.0.1');
  let status = '';
  let closed = false;
  sock.once('data', (c: Buffer) => {
    status = c.toString('latin1').slice(9, 12);
    sock.pause();
  });
  sock.on('error', () => undefined);
  sock.on('close', () => (closed = true));
  sock.write(bytes);
  return { sock, status: () => status, closed: () => closed };
}

const LOG_REQ = 'GET /v1/log?from=0 HTTP/1.1\r\nHost: x\r\n\r\n';

beforeAll(() => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  const pool = randomBytes(4 * MB);
  const log = Commitlog.open(dir);
  for (let i = 0; i < LOG_BYTES / 1000; i++) {
    const at = (i * 7919) % (pool.length - 1000);
    log.append(pool.subarray(at, at + 1000));
    if (i % 50 === 49) log.flush();
  }
  log.flushAndSync();
  log.close();
});

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('stalled readers', () => {
  it('300 non-reading streams: 100 served, the rest 503 + Retry-After; RSS bounded, /v1/meta fast, descriptors back after', async () => {
    const s = await serve('--max-streams', '100', '--stall-timeout', '60000');
    expect((await meta(s)).status).toBe(200);
    const baseRss = rss(s);
    await sleep(100); // the connection of the request before is gone
    const baseFds = fds(s);
    const clients = Array.from({ length: 300 }, () => stalled(s, LOG_REQ));
    expect(await until(() => clients.every((c) => c.status() !== '' || c.closed()), 20_000)).toBe(true);
    expect(clients.filter((c) => c.status() === '200')).toHaveLength(100);
    // the refused ones answered at once; an idle connection then makes room for newcomers
    expect(clients.filter((c) => c.status() === '503').length + clients.filter((c) => c.closed() && c.status() === '').length).toBe(200);
    const retry = await meta(s, {}, '/v1/log?from=0');
    expect(retry.status).toBe(503);
    expect(retry.headers['retry-after']).toMatch(/^\d+$/);
    await sleep(500);
    const lat: number[] = [];
    for (let i = 0; i < 10; i++) {
      const m = await meta(s);
      expect(m.status).toBe(200);
      lat.push(m.ms);
    }
    const grown = rss(s) - baseRss;
    // 1.3.0-era server: ~1.05 MB per stalled stream (341 MB for 400); now at most 100 streams of a few 64 KiB buffers
    expect(grown, `RSS +${(grown / MB).toFixed(1)} MB`).toBeLessThan(100 * MB);
    expect(Math.max(...lat), `meta ${lat.join(',')} ms`).toBeLessThan(500);
    expect(fds(s)).toBeLessThanOrEqual(baseFds + 300 + 100);
    for (const c of clients) c.sock.destroy();
    expect(await until(() => fds(s) <= baseFds, 10_000), `fds ${fds(s)} vs ${baseFds}`).toBe(true);
  });

  it('a stream whose client takes nothing is closed after --stall-timeout, and its reader with it', async () => {
    const s = await serve('--max-streams', '50', '--stall-timeout', '1000', '--headers-timeout', '1000');
    expect((await meta(s)).status).toBe(200);
    await sleep(100); // the connection of the request before is gone
    const baseFds = fds(s);
    const clients = Array.from({ length: 50 }, () => stalled(s, LOG_REQ));
    expect(await until(() => clients.every((c) => c.status() === '200'), 10_000)).toBe(true);
    expect(fds(s)).toBeGreaterThanOrEqual(baseFds + 50);
    // the clients stay connected and silent (a paused socket does not see the FIN): the server closes
    // their connections and readers
    expect(await until(() => fds(s) <= baseFds, 10_000), `fds ${fds(s)} vs ${baseFds}`).toBe(true);
    expect((await meta(s)).status).toBe(200);
  });
});

describe('slowloris', () => {
  it('sockets that trickle headers or send nothing are closed at --headers-timeout and cannot lock others out', async () => {
    const s = await serve('--max-connections', '256', '--max-streams', '128', '--headers-timeout', '1000');
    const attackers: net.Socket[] = [];
    let stop = false;
    const closedAfter: number[] = [];
    const attack = (trickle: boolean): void => {
      if (stop) return;
      const sock = net.connect(s.port, '127.0.0.1');
      const t0 = Date.now();
      let timer: NodeJS.Timeout | null = null;
      sock.on('connect', () => {
        if (!trickle) return;
        const bytes = 'GET /v1/meta HTTP/1.1\r\nHost: x\r\nX-A: ';
        let i = 0;
        timer = setInterval(() => sock.write(bytes[i++ % bytes.length]!), 100);
      });
      sock.on('error', () => undefined);
      sock.on('close', () => {
        if (timer) clearInterval(timer);
        closedAfter.push(Date.now() - t0);
        attack(trickle); // reconnect at once
      });
      attackers.push(sock);
    };
    for (let i = 0; i < 256; i++) attack(i % 2 === 0);
    await sleep(300);
    const results: (number | string)[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 5_000) {
      results.push((await meta(s)).status);
      await sleep(100);
    }
    stop = true;
    for (const a of attackers) a.destroy();
    const ok = results.filter((r) => r === 200).length;
    // before: 1 answer in 37 tries; the guard closes the oldest idle socket for each newcomer
    expect(ok / results.length, `${ok} of ${results.length}: ${results.join(',')}`).toBeGreaterThan(0.9);
    // timed-out ones go at the headers timeout, not at Node's 30 s sweep
    expect(Math.max(...closedAfter)).toBeLessThan(3_000);
  });

  it('a lone trickling socket is closed about --headers-timeout after it connected, with a 408', async () => {
    const s = await serve('--headers-timeout', '1000');
    const sock = net.connect(s.port, '127.0.0.1');
    let got = '';
    sock.on('data', (c: Buffer) => (got += c.toString('latin1')));
    const t0 = Date.now();
    const timer = setInterval(() => sock.write('a'), 100);
    sock.write('GET /v1/meta HTTP/1.1\r\nX-');
    await new Promise<void>((resolve) => sock.on('close', () => resolve()));
    clearInterval(timer);
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(2_500);
    expect(got).toMatch(/^HTTP\/1\.1 408/);
  });
});

describe('pipelining', () => {
  it('20 sockets pipelining 2000 log requests each and never reading: closed, RSS and descriptors flat', async () => {
    const s = await serve();
    expect((await meta(s)).status).toBe(200);
    const baseRss = rss(s);
    await sleep(100); // the connection of the request before is gone
    const baseFds = fds(s);
    const clients = Array.from({ length: 20 }, () => stalled(s, LOG_REQ.repeat(2000)));
    expect(await until(() => clients.every((c) => c.closed()), 10_000)).toBe(true);
    expect((await meta(s)).status).toBe(200);
    // before: +1.2 GB and ~1640 descriptors per socket, kept after the client left
    // (the bound leaves room for heap the collector has not given back yet: 60–75 MB measured)
    expect(rss(s) - baseRss).toBeLessThan(150 * MB);
    expect(await until(() => fds(s) <= baseFds, 5_000), `fds ${fds(s)} vs ${baseFds}`).toBe(true);
  });

  it('a few pipelined requests wait their turn: one reader at a time, all answered in order', async () => {
    const s = await serve();
    await sleep(100); // the connection of the request before is gone
    const baseFds = fds(s);
    const sock = net.connect(s.port, '127.0.0.1');
    const parts: Buffer[] = [];
    sock.on('data', (c: Buffer) => parts.push(c));
    sock.write(LOG_REQ.repeat(5) + 'GET /v1/meta HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await sleep(300);
    sock.pause(); // the first stream stalls: the other five wait, no reader of theirs is open
    await sleep(300);
    expect(fds(s)).toBeLessThanOrEqual(baseFds + 2); // the socket and one segment file
    sock.resume();
    await new Promise<void>((resolve) => sock.on('end', () => resolve()));
    const text = Buffer.concat(parts).toString('latin1');
    expect(text.match(/HTTP\/1\.1 200 OK\r\n/g)!.length).toBeGreaterThanOrEqual(6);
    expect(text.endsWith('}')).toBe(true); // the meta JSON came last
    expect(await until(() => fds(s) <= baseFds, 5_000)).toBe(true);
  });
});

describe('held before, kept', () => {
  it('1000 mid-stream disconnects leave no descriptor', async () => {
    const s = await serve();
    expect((await meta(s)).status).toBe(200);
    await sleep(100); // the connection of the request before is gone
    const baseFds = fds(s);
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) =>
            new Promise<void>((resolve) => {
              const req = http.get(`${s.url}/v1/log?from=${(batch * 50 + i) * 10}`, { agent: false }, (res) => {
                res.once('data', () => req.destroy());
              });
              req.on('error', () => resolve());
              req.on('close', () => resolve());
            }),
        ),
      );
    }
    expect(await until(() => fds(s) <= baseFds, 10_000), `fds ${fds(s)} vs ${baseFds}`).toBe(true);
  });

  it('HEAD /v1/log answers without reading the log; bearer is case-insensitive; two Authorization headers are 400; 405 allows HEAD', async () => {
    const s = await serve('--token', 'tok');
    const auth = { authorization: 'Bearer tok' };
    const before = rchar(s);
    const head = await meta(s, auth, '/v1/log?from=0', 'HEAD');
    expect(head.status).toBe(200);
    expect(rchar(s) - before).toBeLessThan(MB); // a GET reads the whole 24 MB
    for (const a of ['bearer tok', 'BEARER tok', 'Bearer  tok']) expect((await meta(s, { authorization: a })).status, a).toBe(200);
    for (const a of ['Bearer tokx', 'Basic tok', 'bearertok']) expect((await meta(s, { authorization: a })).status, a).toBe(401);
    const two = await new Promise<string>((resolve) => {
      const sock = net.connect(s.port, '127.0.0.1');
      let got = '';
      sock.on('data', (c: Buffer) => (got += c.toString('latin1')));
      sock.on('close', () => resolve(got));
      sock.write('GET /v1/meta HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nAuthorization: Bearer tok\r\nConnection: close\r\n\r\n');
    });
    expect(two).toMatch(/^HTTP\/1\.1 400/);
    const post = await meta(s, auth, '/v1/log', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    for (const t of ['/../../etc/passwd', '/v1/log/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd']) {
      expect((await meta(s, auth, t)).status, t).toBe(404);
    }
  });
});
