/**
 * The HTTP server under hostile or careless clients (issue 4: "nothing the client sends can crash the
 * server or make it hold unbounded memory; slow readers get backpressure, not buffering"). The server
 * runs as `clog serve` in a child process so its RSS can be read from /proc and a crash shows as an exit.
 * Needs the build (`npm test` builds first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commitlog, commits, segmentFileName, streamCommitsSync } from '../../src/index.js';
import { listen } from '../../src/server/http.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/cli/main.js');
const MB = 1024 * 1024;
/** 100 MB in one segment (default options): a server that buffered the stream would show it in its RSS. */
const LOG_BYTES = 100 * MB;
const RECORD_LEN = 1000;
const RECORDS_PER_COMMIT = 50;
/** RSS growth allowed while a client stalls: a few chunks, socket buffers and GC slack, far below the log. */
const RSS_SLACK = 40 * MB;

let dir: string;
let segmentPath: string;
let layout: { offset: number }[];
let server: ChildProcess;
let url: string;

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
}

function alive(): boolean {
  return server.exitCode === null && server.signalCode === null;
}

interface Reply {
  status: number;
  body: Buffer;
}

function get(target: string, method = 'GET', body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${target}`, { method, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends raw bytes on a fresh connection; resolves with whatever came back before the server closed it (bounded). */
function raw(bytes: string | Buffer, waitMs = 2_000): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(Number(new URL(url).port), '127.0.0.1');
    let got = '';
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, waitMs);
    sock.on('data', (c: Buffer) => (got += c.toString('latin1')));
    sock.on('error', done);
    sock.on('close', done);
    sock.write(bytes);
  });
}

function expectedRange(from: number, to: number): Buffer {
  return Buffer.concat([...streamCommitsSync(dir, { start: from, end: to })]);
}

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does) first`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  const pool = randomBytes(4 * MB);
  const log = Commitlog.open(dir);
  const records = Math.ceil(LOG_BYTES / RECORD_LEN);
  for (let i = 0; i < records; i++) {
    const at = (i * 7919) % (pool.length - RECORD_LEN);
    log.append(pool.subarray(at, at + RECORD_LEN));
    if (i % RECORDS_PER_COMMIT === RECORDS_PER_COMMIT - 1) log.flush();
  }
  log.flushAndSync();
  log.close();
  segmentPath = path.join(dir, segmentFileName(0));
  layout = [...commits(dir)].map((c) => ({ offset: c.minTxOffset }));

  server = spawn(process.execPath, [MAIN, 'serve', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('serve did not start')), 10_000);
    server.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /^listening on (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
});

afterAll(() => {
  server?.kill('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a client that stops reading', () => {
  it('gets backpressure: the server does not buffer the log, other clients are served meanwhile', async () => {
    expect(fs.statSync(segmentPath).size).toBeGreaterThan(LOG_BYTES - MB);
    expect((await get('/v1/meta')).status).toBe(200);
    const baseline = rssOf(server.pid!);

    const hash = createHash('sha256');
    let received = 0;
    let res!: http.IncomingMessage;
    const finished = new Promise<void>((resolve, reject) => {
      const req = http.get(`${url}/v1/log`, { agent: false }, (r) => {
        res = r;
        r.on('data', (c: Buffer) => {
          hash.update(c);
          received += c.length;
          if (received >= 1000 && received - c.length < 1000) r.pause(); // a few bytes, then stall
        });
        r.on('end', resolve);
        r.on('error', reject);
      });
      req.on('error', reject);
    });
    // While stalled: sample the server's RSS, and check other clients are served.
    let peak = baseline;
    const start = Date.now();
    const mid = layout[Math.floor(layout.length / 2)]!.offset;
    while (Date.now() - start < 1_500) {
      peak = Math.max(peak, rssOf(server.pid!));
      const t0 = Date.now();
      const meta = await get('/v1/meta');
      const part = await get(`/v1/log?from=${mid}&to=${mid + 3 * RECORDS_PER_COMMIT}`);
      expect(meta.status).toBe(200);
      expect(part.body.equals(expectedRange(mid, mid + 3 * RECORDS_PER_COMMIT))).toBe(true);
      expect(Date.now() - t0).toBeLessThan(1_000);
      await sleep(50);
    }
    expect(received).toBeLessThan(LOG_BYTES / 4); // it really is stalled
    expect(peak - baseline, `RSS grew by ${((peak - baseline) / MB).toFixed(1)} MB`).toBeLessThan(RSS_SLACK);

    // Reading on, the client gets the whole log, intact.
    res.resume();
    await finished;
    expect(received).toBe(fs.statSync(segmentPath).size);
    const fileHash = createHash('sha256').update(fs.readFileSync(segmentPath)).digest('hex');
    expect(hash.digest('hex')).toBe(fileHash);
    expect(alive()).toBe(true);
  });

  it('a long stream does not pile up listeners on the response (in-process server)', async () => {
    // Each backpressure wait must clean up after itself: ~20 MB streamed means hundreds of waits.
    const s = await listen({ dir, host: '127.0.0.1', port: 0 });
    const responses: http.ServerResponse[] = [];
    s.server.on('request', (_req, res: http.ServerResponse) => responses.push(res));
    const warnings: string[] = [];
    let peak = 0;
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const to = layout[Math.floor(layout.length / 5)]!.offset;
      const body = await new Promise<number>((resolve, reject) => {
        http
          .get(`${s.url}/v1/log?to=${to}`, { agent: false }, (res) => {
            let n = 0;
            res.on('data', (c: Buffer) => {
              n += c.length;
              const r = responses[0];
              if (r) peak = Math.max(peak, r.listenerCount('close'), r.listenerCount('drain'), r.listenerCount('error'));
              res.pause(); // a slow reader: every server write hits backpressure
              setImmediate(() => res.resume());
            });
            res.on('end', () => resolve(n));
          })
          .on('error', reject);
      });
      expect(body).toBeGreaterThan(15 * MB);
      expect(responses).toHaveLength(1);
      // sampled while the stream ran (a follow stream may run for days)
      expect(peak).toBeLessThan(5);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
      s.server.closeAllConnections();
      await new Promise<void>((resolve) => s.server.close(() => resolve()));
    }
  });
});

describe('clients that misbehave', () => {
  it('disconnecting mid-stream, sending garbage or huge headers does not crash the server', async () => {
    let x = 0x9e3779b9; // xorshift32: the same cut points every run
    const rand = (): number => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32);
    // 30 clients reading the whole log and hanging up after a random amount (some before any byte).
    const cuts = Array.from({ length: 30 }, () => Math.floor(rand() * 8 * MB));
    await Promise.all(
      cuts.map(
        (cut, i) =>
          new Promise<void>((resolve) => {
            const target = i % 3 === 0 ? '/v1/log?follow=1' : `/v1/log?from=${layout[i * 37]!.offset}`;
            const req = http.get(`${url}${target}`, { agent: false }, (res) => {
              let n = 0;
              res.on('data', (c: Buffer) => {
                n += c.length;
                if (n >= cut) req.destroy();
              });
              res.on('end', resolve);
            });
            req.on('error', () => resolve());
            req.on('close', () => resolve());
            if (cut < 1000) setImmediate(() => req.destroy());
          }),
      ),
    );
    expect(alive()).toBe(true);

    expect(await raw('NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]))).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(`GET /v1/meta HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    expect(await raw(`GET /v1/log?from=${'9'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(/^HTTP\/1\.1 (414|431|400)/);
    await raw('GET /v1/log HTTP/1.1\r\nHo', 200); // half a request, then gone
    await raw('GET /v1/log?from=0 HTTP/1.1\r\nHost: x\r\n\r\n', 50); // hangs up right after asking
    // A large request body is not buffered; the request is refused.
    const before = rssOf(server.pid!);
    const post = await get('/v1/meta', 'POST', Buffer.alloc(20 * MB, 0x61)).catch((e: Error) => e);
    if (!(post instanceof Error)) expect(post.status).toBe(405);
    expect(rssOf(server.pid!) - before).toBeLessThan(RSS_SLACK);

    expect(alive()).toBe(true);
    expect((await get('/v1/meta')).status).toBe(200);
    const a = layout[10]!.offset;
    const b = layout[20]!.offset;
    expect((await get(`/v1/log?from=${a}&to=${b}`)).body.equals(expectedRange(a, b))).toBe(true);
  });

  it('200 concurrent connections to /v1/meta and /v1/log all succeed', async () => {
    const meta = JSON.parse((await get('/v1/meta')).body.toString('utf8')) as { maxCommittedOffset: number };
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 2 === 0) {
        jobs.push(
          get('/v1/meta').then((r) => {
            expect(r.status).toBe(200);
            expect(JSON.parse(r.body.toString('utf8')).maxCommittedOffset).toBe(meta.maxCommittedOffset);
          }),
        );
      } else {
        const from = layout[(i * 13) % layout.length]!.offset;
        const to = from + RECORDS_PER_COMMIT * (1 + (i % 4));
        jobs.push(
          get(`/v1/log?from=${from}&to=${to}`).then((r) => {
            expect(r.status).toBe(200);
            expect(r.body.equals(expectedRange(from, to))).toBe(true);
          }),
        );
      }
    }
    await Promise.all(jobs);
    expect(alive()).toBe(true);
  });
});
