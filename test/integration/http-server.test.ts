/**
 * The read-only HTTP server (issue 4, "Server and client") over real loopback HTTP: `/v1/meta`, the
 * `/v1/log` stream (whole log, ranges, follow), bearer tokens, and malformed requests. Expected bytes
 * come from the files on disk (the wire format is the on-disk format, SPEC §11) and from
 * `streamCommitsSync` (§11.2); expected meta from the `Commitlog` that wrote the log.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Commitlog,
  commits,
  existingSegmentOffsets,
  segmentFileName,
  streamCommitsSync,
  type TxRange,
} from '../../src/index.js';
import { MAGIC } from '../../src/api/codec.js';
import { listen } from '../../src/server/http.js';
import { appendRandomCommits, rng } from '../helpers/common.js';

/** Small segments so that every range test crosses segment boundaries and uses the offset index. */
const OPTS = { maxSegmentSize: 64 * 1024, offsetIndexIntervalBytes: 1024 };
const TOKEN = 's3cret-token';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on a fresh connection (no keep-alive agent, so nothing outlives the test). */
function request(base: string, target: string, init: { method?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${target}`, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function streamed(dir: string, range: TxRange = {}): Buffer {
  return Buffer.concat([...streamCommitsSync(dir, range)]);
}

/** Random flushed commits (seeded), shaped for these tests. */
function appendCommits(log: Commitlog, count: number, rand: () => number): void {
  appendRandomCommits(log, count, rand, { maxRecords: 4, minLen: 20, maxLen: 400 });
}

/** Byte position of every commit in its segment, from a traversal of the log (independent of the stream reader). */
function commitLayout(dir: string): { offset: number; n: number; segment: number; pos: number; len: number }[] {
  const segs = existingSegmentOffsets(dir);
  const out: { offset: number; n: number; segment: number; pos: number; len: number }[] = [];
  let seg = -1;
  let pos = 0;
  for (const c of commits(dir)) {
    const s = segs.filter((o) => o <= c.minTxOffset).pop()!;
    if (s !== seg) {
      seg = s;
      pos = 10;
    }
    const len = 26 + c.records.length;
    out.push({ offset: c.minTxOffset, n: c.n, segment: s, pos, len });
    pos += len;
  }
  return out;
}

function jsonError(reply: Reply): string {
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(reply.body.toString('utf8')) as { error?: unknown };
  expect(typeof body.error).toBe('string');
  return body.error as string;
}

const tmpDirs: string[] = [];
const servers: http.Server[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  tmpDirs.push(d);
  return d;
}
async function serve(options: Parameters<typeof listen>[0]): Promise<{ server: http.Server; url: string }> {
  const s = await listen({ ...options, host: '127.0.0.1', port: 0 });
  servers.push(s.server);
  return s;
}
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

let dir: string;
let base: string;
let expectedMeta: { minCommittedOffset: number | null; maxCommittedOffset: number | null; epoch: number; segments: number[]; logOptions: unknown };

beforeAll(async () => {
  dir = tmp();
  const rand = rng(0x5eed);
  const log = Commitlog.open(dir, OPTS);
  appendCommits(log, 400, rand);
  log.setEpoch(7); // a non-zero epoch, carried by the commits after it
  appendCommits(log, 400, rand);
  log.flushAndSync();
  expectedMeta = {
    minCommittedOffset: log.minCommittedOffset(),
    maxCommittedOffset: log.maxCommittedOffset(),
    epoch: log.epoch,
    segments: log.existingSegmentOffsets(),
    // Derived from the index files: 64-entry files, an entry every 1024 bytes (issue 17 §5).
    logOptions: {
      ...OPTS,
      offsetIndexBytes: (OPTS.maxSegmentSize / OPTS.offsetIndexIntervalBytes) * 16,
      from: { maxSegmentSize: 'index', offsetIndexIntervalBytes: 'index' },
    },
  };
  log.close();
  base = (await serve({ dir })).url;
});

describe('GET /v1/meta', () => {
  it('reports the committed offsets, epoch and segments of the log', async () => {
    const reply = await request(base, '/v1/meta');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(expectedMeta.segments.length).toBeGreaterThan(4);
    expect(expectedMeta.epoch).toBe(7);
    expect(JSON.parse(reply.body.toString('utf8'))).toEqual(expectedMeta);
  });

  it('an empty directory has no committed offsets', async () => {
    const empty = tmp();
    const { url } = await serve({ dir: empty });
    const reply = await request(url, '/v1/meta');
    expect(reply.status).toBe(200);
    const meta = JSON.parse(reply.body.toString('utf8'));
    expect(meta).toMatchObject({ minCommittedOffset: null, maxCommittedOffset: null, segments: [] });
    const log = await request(url, '/v1/log');
    expect(log.status).toBe(200);
    expect(log.body.length).toBe(0); // empty log → nothing (§11.2)
  });
});

describe('GET /v1/log', () => {
  it('the whole log is the concatenation of the segment files, and equals streamCommitsSync', async () => {
    const reply = await request(base, '/v1/log');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/octet-stream');
    const files = Buffer.concat(existingSegmentOffsets(dir).map((o) => fs.readFileSync(path.join(dir, segmentFileName(o)))));
    expect(reply.body.equals(files)).toBe(true);
    expect(reply.body.equals(streamed(dir))).toBe(true);
    const explicit = await request(base, '/v1/log?from=0');
    expect(explicit.body.equals(files)).toBe(true);
  });

  it('from=N starting mid-segment sends no header and begins at the commit starting at N', async () => {
    const layout = commitLayout(dir);
    const segs = existingSegmentOffsets(dir);
    // the 5th commit of the 3rd segment
    const c = layout.filter((x) => x.segment === segs[2])[4]!;
    const reply = await request(base, `/v1/log?from=${c.offset}`);
    expect(reply.status).toBe(200);
    const rest = segs.filter((o) => o > c.segment).map((o) => fs.readFileSync(path.join(dir, segmentFileName(o))));
    const expected = Buffer.concat([fs.readFileSync(path.join(dir, segmentFileName(c.segment))).subarray(c.pos), ...rest]);
    expect(reply.body.equals(expected)).toBe(true);
  });

  it('from/to ranges equal streamCommitsSync over the same range', async () => {
    const layout = commitLayout(dir);
    const segs = existingSegmentOffsets(dir);
    const max = expectedMeta.maxCommittedOffset!;
    const multi = layout.find((x) => x.n > 1 && x.segment === segs[1])!;
    const ranges: [number, number | undefined][] = [
      [0, 1],
      [0, segs[1]!],
      [segs[1]!, segs[3]! + 5],
      [multi.offset + 1, undefined], // inside a commit: that commit is skipped (Q10)
      [layout[100]!.offset, layout[300]!.offset],
      [max, undefined],
      [max, max + 1],
      [max + 1, undefined], // past the end: nothing
      [layout[50]!.offset, layout[50]!.offset], // a..a (a > 0) is empty
    ];
    for (const [from, to] of ranges) {
      const target = `/v1/log?from=${from}${to === undefined ? '' : `&to=${to}`}`;
      const reply = await request(base, target);
      expect(reply.status, target).toBe(200);
      expect(reply.body.equals(streamed(dir, { start: from, end: to })), target).toBe(true);
    }
  });

  it('to is exclusive: the last commit sent is the one starting before `to`', async () => {
    const layout = commitLayout(dir);
    const a = layout[10]!;
    const b = layout[20]!;
    const reply = await request(base, `/v1/log?from=${a.offset}&to=${b.offset}`);
    // all commits a..b-1 lie in one segment here or span a boundary; count the frames sent
    let pos = 0;
    const offsets: number[] = [];
    while (pos < reply.body.length) {
      if (reply.body.subarray(pos, pos + MAGIC.length).equals(Buffer.from(MAGIC))) {
        pos += 10;
        continue;
      }
      offsets.push(Number(reply.body.readBigUInt64LE(pos)));
      pos += 26 + reply.body.readUInt32LE(pos + 18);
    }
    expect(pos).toBe(reply.body.length);
    expect(offsets).toEqual(layout.slice(10, 20).map((x) => x.offset));
  });
});

describe('GET /v1/log?follow=1', () => {
  it('keeps the response open and sends commits flushed by a live writer', async () => {
    const live = tmp();
    const log = Commitlog.open(live, OPTS);
    const rand = rng(42);
    try {
      appendCommits(log, 50, rand);
      const { server, url } = await serve({ dir: live, followPollMs: 20 });
      const abort = new AbortController();
      const received: Buffer[] = [];
      let ended = false;
      let status = 0;
      const req = http.get(`${url}/v1/log?from=0&follow=1`, { agent: false, signal: abort.signal }, (res) => {
        status = res.statusCode!;
        res.on('data', (c: Buffer) => received.push(c));
        res.on('end', () => (ended = true));
        res.on('error', () => undefined); // the abort below
      });
      req.on('error', () => undefined);
      // Append in bursts (rotating segments several times) while the client is connected.
      for (let i = 0; i < 30; i++) {
        appendCommits(log, 10, rand);
        await sleep(10);
      }
      const want = streamed(live);
      expect(existingSegmentOffsets(live).length).toBeGreaterThan(2);
      const deadline = Date.now() + 10_000;
      while (Buffer.concat(received).length < want.length && Date.now() < deadline) await sleep(20);
      await sleep(100); // nothing more may arrive
      expect(status).toBe(200);
      expect(Buffer.concat(received).equals(want)).toBe(true);
      expect(ended).toBe(false);
      abort.abort();
      // The server notices the disconnect and drops the connection.
      const until = Date.now() + 5_000;
      let open = 1;
      while (open > 0 && Date.now() < until) {
        open = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
        if (open > 0) await sleep(20);
      }
      expect(open).toBe(0);
      expect((await request(url, '/v1/meta')).status).toBe(200);
    } finally {
      log.close();
    }
  });

  it('with `to`, the follow stream ends by itself once the range is complete', async () => {
    const live = tmp();
    const log = Commitlog.open(live, OPTS);
    const rand = rng(7);
    try {
      appendCommits(log, 20, rand);
      const from = log.maxCommittedOffset()! - 5;
      const to = log.maxCommittedOffset()! + 60; // not written yet
      const { url } = await serve({ dir: live, followPollMs: 20 });
      const done = request(url, `/v1/log?from=${from}&to=${to}&follow=1`);
      let finished = false;
      void done.then(() => (finished = true));
      for (let i = 0; i < 200 && !finished; i++) {
        appendCommits(log, 2, rand);
        await sleep(10);
      }
      const reply = await done;
      expect(reply.status).toBe(200);
      expect(log.maxCommittedOffset()!).toBeGreaterThanOrEqual(to - 1);
      expect(reply.body.equals(streamed(live, { start: from, end: to }))).toBe(true);
    } finally {
      log.close();
    }
  });
});

describe('bearer token', () => {
  let url: string;
  beforeAll(async () => {
    url = (await serve({ dir, token: TOKEN })).url;
  });

  it('401 without a token or with a wrong one, on every path', async () => {
    const wrong = [
      undefined,
      'Bearer wrong',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `bearer${TOKEN}`,
      TOKEN,
      `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
    ];
    for (const auth of wrong) {
      for (const target of ['/v1/meta', '/v1/log', '/v1/log?from=0&follow=1', '/nope']) {
        const reply = await request(url, target, { headers: auth === undefined ? {} : { authorization: auth } });
        expect(reply.status, `${auth} ${target}`).toBe(401);
        jsonError(reply);
        // nothing of the log leaks
        expect(reply.body.includes(Buffer.from(MAGIC))).toBe(false);
      }
    }
  });

  it('200 with the right token', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const meta = await request(url, '/v1/meta', { headers });
    expect(meta.status).toBe(200);
    expect(JSON.parse(meta.body.toString('utf8'))).toEqual(expectedMeta);
    const log = await request(url, '/v1/log', { headers });
    expect(log.status).toBe(200);
    expect(log.body.equals(streamed(dir))).toBe(true);
  });
});

describe('malformed requests', () => {
  it('bad parameters get 400 with a JSON error, and the server keeps serving', async () => {
    const bad = [
      'from=-1',
      'from=abc',
      'from=',
      'from=1e3',
      'from=0x10',
      'from=%2B5',
      'from=99999999999999999',
      'from=9007199254740992', // 2^53: not exactly representable
      'to=-5',
      'to=abc',
      'from=10&to=5',
      'from=1&from=2',
      'from=1&to=5&to=6',
      'bogus=1',
      'from=0&limit=10',
      'follow=maybe',
    ];
    for (const q of bad) {
      const reply = await request(base, `/v1/log?${q}`);
      expect(reply.status, q).toBe(400);
      expect(jsonError(reply).length).toBeGreaterThan(0);
    }
    // A request target of 10 KB is refused before parsing.
    const long = await request(base, `/v1/log?from=0&x=${'a'.repeat(10 * 1024)}`);
    expect([400, 414]).toContain(long.status);
    jsonError(long);
    // Still serving, and serving the right bytes.
    const ok = await request(base, '/v1/log');
    expect(ok.status).toBe(200);
    expect(ok.body.equals(streamed(dir))).toBe(true);
  });

  it('the largest safe offset is accepted (an empty stream)', async () => {
    const reply = await request(base, `/v1/log?from=${Number.MAX_SAFE_INTEGER}`);
    expect(reply.status).toBe(200);
    expect(reply.body.length).toBe(0);
  });

  it('other methods get 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      for (const target of ['/v1/meta', '/v1/log']) {
        const reply = await request(base, target, { method });
        expect(reply.status, `${method} ${target}`).toBe(405);
        expect(reply.headers.allow).toMatch(/GET/);
        jsonError(reply);
      }
    }
  });

  it('unknown paths get 404', async () => {
    for (const target of ['/', '/v1', '/v1/', '/v1/log/', '/v1/metadata', '/v2/log', '/V1/META', '/v1/log/0']) {
      const reply = await request(base, target);
      expect(reply.status, target).toBe(404);
      jsonError(reply);
    }
  });
});
