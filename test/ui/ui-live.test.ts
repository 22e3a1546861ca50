/**
 * `clog ui`'s live parts in a real browser (system Chromium): the live tail fed by a writer in another
 * process, paging through thousands of commits, verify with progress on a good and a damaged log, the
 * per-segment chart; and, over plain HTTP, the limits of the event streams.
 */
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { logInfo } from '../../src/api/ops.js';
import { SseHub, type SseStream } from '../../src/server/ui-sse.js';
import { OverviewCache } from '../../src/server/ui-watch.js';
import { startUi, startUiProcess, useBrowser } from './browser.js';
import { makeLog } from './make-log.js';

const browser = useBrowser();
const dirs: string[] = [];
let bigLog: string; // 3000 commits over several segments

beforeAll(async () => {
  bigLog = makeLog(3000);
  dirs.push(bigLog);
}, 60_000);
afterAll(async () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The first column (minTxOffset) of the commit table's rows. */
async function offsetsShown(page: Page, table = 'main table'): Promise<number[]> {
  const cells = await page.locator(`${table} tbody tr td:first-child`).allTextContents();
  return cells.map(Number);
}

/** A new page at `url/hash`, once its live stream has said the log's next offset is `next`. */
async function openLive(url: string, hash: string, next: number): Promise<Page> {
  const page = await browser().newPage();
  await page.goto(`${url}/${hash}`);
  await page.locator(`#live-status[data-next="${next}"]`).waitFor();
  return page;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function appendInAnotherProcess(dir: string, count: number, gapMs: number): Promise<void> {
  const child = spawn(process.execPath, ['test/ui/append-writer.mjs', dir, String(count), String(gapMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return once(child, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`writer exited with ${String(code)}`);
  });
}

describe('clog ui live tail', () => {
  it('shows commits appended by another process without a reload', async () => {
    const dir = makeLog(5);
    dirs.push(dir);
    const url = await startUi(dir);
    const list = await openLive(url, '#commits/0', 5);
    expect(await offsetsShown(list)).toEqual(range(0, 5));
    const tail = await openLive(url, '#tail', 5);
    await tail.locator('#tail tbody tr').nth(4).waitFor();
    const overview = await openLive(url, '', 5);
    await overview.locator('table').first().waitFor();
    let loads = 0;
    for (const p of [list, tail, overview]) p.on('load', () => loads++);

    await appendInAnotherProcess(dir, 3, 50);

    await list.locator('#live-status[data-next="8"]').waitFor();
    await list.locator('main tbody tr').nth(7).waitFor();
    expect(await offsetsShown(list)).toEqual(range(0, 8));
    await tail.locator('#tail tbody tr').nth(7).waitFor();
    expect(await offsetsShown(tail, '#tail')).toEqual(range(0, 8));
    // The totals row: segments, compressedSegments, bytes, commits, minTxOffset, maxTxOffset, maxEpoch.
    await overview.locator('main table').first().locator('tbody td').nth(5).filter({ hasText: /^7$/ }).waitFor();
    expect(await overview.locator('main table').first().locator('tbody td').nth(3).textContent()).toBe('8');
    expect(loads).toBe(0);
    for (const p of [list, tail, overview]) await p.close();
  }, 60_000);

  it('a page that fills up stops growing and links to the next page', async () => {
    const dir = makeLog(45);
    dirs.push(dir);
    const url = await startUi(dir);
    const page = await openLive(url, '#commits/0', 45);
    await appendInAnotherProcess(dir, 10, 0);
    await page.locator('#live-status[data-next="55"]').waitFor();
    await page.locator('main tbody tr').nth(49).waitFor();
    expect(await offsetsShown(page)).toEqual(range(0, 50));
    expect(await page.locator('a', { hasText: 'next page' }).getAttribute('href')).toBe('#commits/50');
    await page.close();
  }, 60_000);
});

describe('clog ui live tail, catching up', () => {
  it('shows the right rows when more commits come at once than an event carries', async () => {
    const dir = makeLog(5);
    dirs.push(dir);
    const url = await startUi(dir);
    const list = await openLive(url, '#commits/0', 5);
    const tail = await openLive(url, '#tail', 5);
    await appendInAnotherProcess(dir, 400, 0);
    for (const p of [list, tail]) await p.locator('#live-status[data-next="405"]').waitFor();
    await list.locator('main tbody tr').nth(49).waitFor();
    await tail.locator('#tail tbody tr td:first-child >> text="404"').waitFor();
    expect(await offsetsShown(list)).toEqual(range(0, 50));
    expect(await offsetsShown(tail, '#tail')).toEqual(range(355, 405));
    for (const p of [list, tail]) await p.close();
  }, 60_000);
});

describe('clog ui paging', () => {
  it('pages through 3000 commits over several segments and jumps near the end', async () => {
    const url = await startUi(bigLog);
    const overview = (await (await fetch(`${url}/api/overview`)).json()) as { totals: { segments: number; commits: number } };
    expect(overview.totals.commits).toBe(3000);
    expect(overview.totals.segments).toBeGreaterThanOrEqual(4);
    const page = await browser().newPage();
    await page.goto(`${url}/#commits/0`);
    await page.locator('main tbody tr').nth(49).waitFor();
    expect(await offsetsShown(page)).toEqual(range(0, 50));
    for (let n = 1; n <= 4; n++) {
      await page.click('text=next page');
      await page.locator(`main tbody tr td:first-child >> text="${n * 50}"`).waitFor();
      expect(await offsetsShown(page)).toEqual(range(n * 50, n * 50 + 50));
    }
    await page.fill('input[name=from]', '2987');
    await page.click('text=go');
    await page.locator('main tbody tr td:first-child >> text="2987"').waitFor();
    expect(await offsetsShown(page)).toEqual(range(2987, 3000));
    await page.fill('input[name=from]', '1234');
    await page.click('text=go');
    await page.locator('main tbody tr td:first-child >> text="1234"').waitFor();
    expect(await offsetsShown(page)).toEqual(range(1234, 1284));
    await page.close();
  }, 60_000);
});

describe('clog ui verify', () => {
  /** Clicks the verify button, recording every progress line shown, and returns them with the result lines. */
  async function verify(page: Page): Promise<{ progress: string[]; result: string[] }> {
    await page.locator('#verify button').waitFor();
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => {
        for (const p of document.querySelectorAll('#verify .verify-progress')) seen.push(p.textContent ?? '');
      }).observe(document.getElementById('verify')!, { childList: true, subtree: true });
    });
    await page.click('#verify button');
    await page.locator('#verify .verify-ok, #verify .error').first().waitFor();
    const progress = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    const result = await page.locator('#verify .verify-result p').allTextContents();
    return { progress, result };
  }

  it('shows progress, then ok, on a good log of several segments', async () => {
    const url = await startUi(bigLog);
    const page = await browser().newPage();
    await page.goto(url);
    const { progress, result } = await verify(page);
    expect(progress.some((t) => /^segment \d+ \(\d+ of \d+\), \d+ of \d+ bytes$/.test(t))).toBe(true);
    expect(result).toEqual([expect.stringMatching(/^ok: 3000 commits in \d+ segments$/)]);
    expect(await page.locator('#verify button').isDisabled()).toBe(false);
    await page.close();
  }, 60_000);

  it('names the damage on a damaged log', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-ui-verify-damaged-'));
    dirs.push(dir);
    fs.cpSync('test/fixtures/spacetimedb-v1.2/clog', dir, { recursive: true });
    const seg = path.join(dir, '00000000000000000000.stdb.log');
    const bytes = fs.readFileSync(seg);
    bytes[165_000] ^= 0xff; // inside the second commit (offset 1)
    fs.writeFileSync(seg, bytes);
    const url = await startUi(dir);
    const page = await browser().newPage();
    await page.goto(url);
    const { result } = await verify(page);
    expect(result[0]).toMatch(/^damaged: \d+ problem\(s\), 1 good commits$/);
    expect(result[1]).toMatch(/^checksum: segment 0, byte \d+, offset 1: /);
    await page.close();
  }, 60_000);
});

describe('clog ui chart', () => {
  it('draws one bar per segment, for commits and for bytes', async () => {
    const url = await startUi(bigLog);
    const info = (await (await fetch(`${url}/api/overview`)).json()) as { segments: { segment: number; commits: number; bytes: number }[] };
    const page = await browser().newPage();
    await page.goto(url);
    await page.locator('svg.chart').waitFor();
    expect(await page.locator('svg.chart rect.bar').count()).toBe(info.segments.length);
    const titles = await page.locator('svg.chart rect.bar title').allTextContents();
    expect(titles).toEqual(info.segments.map((s) => `segment ${s.segment}: ${s.commits}`));
    await page.selectOption('#chart select', 'bytes');
    const s0 = info.segments[0]!;
    await page.locator('svg.chart rect.bar title', { hasText: `segment 0: ${s0.bytes}` }).waitFor({ state: 'attached' });
    expect(await page.locator('svg.chart rect.bar title').allTextContents()).toEqual(info.segments.map((s) => `segment ${s.segment}: ${s.bytes}`));
    await page.close();
  }, 60_000);
});

describe('clog ui event streams over HTTP', () => {
  it('refuses streams beyond the cap with 503, wants the token, validates parameters', async () => {
    const url = await startUi('test/fixtures/spacetimedb-v1.2/clog', ['--token', 't0k']);
    const auth = { authorization: 'Bearer t0k' };
    expect((await fetch(`${url}/api/live`)).status).toBe(401);
    expect((await fetch(`${url}/api/verify`)).status).toBe(401);
    expect((await fetch(`${url}/api/live?from=1`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${url}/api/tail?limit=0`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${url}/api/tail?limit=501`, { headers: auth })).status).toBe(400);
    const controllers: AbortController[] = [];
    const open = async (): Promise<Response> => {
      const c = new AbortController();
      controllers.push(c);
      return fetch(`${url}/api/live`, { headers: auth, signal: c.signal });
    };
    const streams = await Promise.all(Array.from({ length: 32 }, open));
    expect(streams.map((r) => r.status)).toEqual(Array(32).fill(200));
    expect(streams[0]!.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const refused = await open();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    // A stream's slot is given back when its client goes away.
    controllers[0]!.abort();
    let again: Response | null = null;
    for (let i = 0; i < 50 && again?.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      again = await open();
    }
    expect(again!.status).toBe(200);
    for (const c of controllers) c.abort();
  }, 60_000);

  it('with --token, the page opened as /?token= gets its live stream and verify through the cookie', async () => {
    const url = await startUi('test/fixtures/spacetimedb-v1.2/clog', ['--token', 't0k']);
    const page = await openLive(url, '?token=t0k', 9);
    await page.click('#verify button');
    await page.locator('#verify .verify-ok', { hasText: 'ok: 9 commits in 1 segments' }).waitFor();
    await page.close();
  }, 60_000);

  it('exits promptly on SIGTERM with event streams open', async () => {
    const { url, child } = await startUiProcess(bigLog);
    const res = await fetch(`${url}/api/live`);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('retry:');
    const verify = await fetch(`${url}/api/verify`);
    expect(verify.status).toBe(200);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000);
  }, 60_000);
});

describe('VerifyRunner', () => {
  /** A stand-in for an event stream: records what is sent. */
  function fakeStream(): { events: [string, unknown][]; closed: boolean; stream: SseStream } {
    const handlers: (() => void)[] = [];
    const rec = {
      events: [] as [string, unknown][],
      closed: false,
      stream: {
        send: (event: string, data: unknown) => rec.events.push([event, data]),
        onClose: (fn: () => void) => handlers.push(fn),
        close: () => {
          if (rec.closed) return;
          rec.closed = true;
          for (const fn of handlers.splice(0)) fn();
        },
      } as unknown as SseStream,
    };
    return rec;
  }

  it('runs one verify for everyone asking meanwhile, and stops a run nobody watches', async () => {
    // The built module: its worker is the compiled ui-verify-worker.js next to it.
    const { VerifyRunner } = (await import('../../dist/src/server/ui-verify.js')) as typeof import('../../src/server/ui-verify.js');
    const runner = new VerifyRunner(bigLog);
    const a = fakeStream();
    const b = fakeStream();
    runner.watch(a.stream);
    runner.watch(b.stream);
    expect(runner.started).toBe(1);
    expect(b.events[0]).toEqual(['started', { joined: true }]);
    while (!a.closed || !b.closed) await new Promise((r) => setTimeout(r, 20));
    for (const s of [a, b]) {
      const [event, result] = s.events.at(-1)!;
      expect(event).toBe('result');
      expect(result).toMatchObject({ ok: true, commits: 3000 });
    }
    expect(a.events.some(([e]) => e === 'progress')).toBe(true);
    expect(runner.running).toBe(false);
    const c = fakeStream();
    runner.watch(c.stream);
    expect(runner.started).toBe(2);
    expect(runner.running).toBe(true);
    c.stream.close();
    expect(runner.running).toBe(false);
  }, 60_000);
});

describe('SseHub', () => {
  it('sends heartbeats, refuses beyond its cap, and closes its streams on closeAll', async () => {
    const hub = new SseHub({ maxStreams: 1, heartbeatMs: 20, maxBufferedBytes: 1024 });
    const server = http.createServer((_req, res) => {
      const s = hub.open(res);
      s?.send('hello', { n: 1 });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const res = await fetch(url);
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).toContain('event: hello\ndata: {"n":1}\n\n');
      expect(hub.size).toBe(1);
      const refused = await fetch(url);
      expect(refused.status).toBe(503);
      expect(hub.refused).toBe(1);
      hub.closeAll();
      for (;;) if ((await reader.read()).done) break;
      expect(hub.size).toBe(0);
    } finally {
      server.close();
    }
  });
});

describe('overview cache', () => {
  it('reads a segment again only when its segment or index file changed', async () => {
    const dir = makeLog(1000); // 3 segments
    dirs.push(dir);
    const cache = new OverviewCache(dir);
    const first = cache.get();
    expect(first.segments.length).toBe(3);
    expect(first).toEqual(logInfo(dir));
    expect(cache.segmentsRead).toBe(3);
    expect(cache.get()).toEqual(first);
    expect(cache.segmentsRead).toBe(3);
    await appendInAnotherProcess(dir, 2, 0);
    const grown = cache.get();
    expect(grown).toEqual(logInfo(dir));
    expect(grown.totals.commits).toBe(1002);
    expect(cache.segmentsRead).toBe(4); // the newest segment only
    // Damage in an old segment (same size, new mtime) is seen too.
    const seg0 = path.join(dir, '00000000000000000000.stdb.log');
    const bytes = fs.readFileSync(seg0);
    bytes[200] ^= 0xff;
    fs.writeFileSync(seg0, bytes);
    fs.utimesSync(seg0, new Date(), new Date(Date.now() + 5_000));
    const damaged = cache.get();
    expect(damaged.segments[0]!.error).not.toBeNull();
    expect(damaged).toEqual(logInfo(dir));
    expect(cache.segmentsRead).toBe(5);
  }, 60_000);
});
