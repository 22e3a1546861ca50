/**
 * `clog ui`'s database views in a real browser: tables and row counts, a table's rows (paged,
 * filtered), time travel, commit detail, damaged logs. Expected values come from the library
 * (SqliteReplay, decodedTransactions), not from the page's own API.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type Json, SqliteReplay, decodedTransactions, rowToDisplayJson } from '../../src/api/replay.js';
import { generateLog } from '../../bench/stdb-log.js';
import { lastUi, startUi, useBrowser } from './browser.js';

const V1 = 'test/fixtures/spacetimedb-v1.2/clog';
const V2 = 'test/fixtures/spacetimedb-v2.6/clog';
const browser = useBrowser();
const temps: string[] = [];

function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** What the library's replay says: row count per table, and a table's rows as `clog rows` shows them. */
async function library(dir: string, at?: number): Promise<{ counts: Record<string, number>; rows: (table: string) => { [k: string]: Json }[]; lastOffset: number }> {
  const r = await SqliteReplay.open(dir, { at });
  try {
    const rowsOf: Record<string, { [k: string]: Json }[]> = {};
    for (const t of r.result.tables) {
      const columns = r.columnsOf(t.tableId);
      rowsOf[t.name] = [...r.rows(t.tableId)].map((row) => rowToDisplayJson(row, columns));
    }
    return {
      counts: Object.fromEntries(r.result.tables.map((t) => [t.name, t.rows])),
      rows: (table) => rowsOf[table] ?? [],
      lastOffset: r.result.lastOffset,
    };
  } finally {
    r.close();
  }
}

/** The tables view as shown: name → rows, and the link of each name. */
async function shownTables(page: Page): Promise<{ counts: Record<string, number>; hrefs: Record<string, string> }> {
  await page.locator('table.tables').waitFor();
  const rows = await page.locator('table.tables tbody tr').evaluateAll((trs) =>
    trs.map((tr) => {
      const cells = (tr as HTMLTableRowElement).cells;
      return { name: cells[1]!.textContent!, rows: Number(cells[3]!.textContent), href: cells[1]!.querySelector('a')?.getAttribute('href') ?? '' };
    }),
  );
  return {
    counts: Object.fromEntries(rows.map((r) => [r.name, r.rows])),
    hrefs: Object.fromEntries(rows.map((r) => [r.name, r.href])),
  };
}

/** The values of one column of the rows view, once it shows `n` rows. */
async function shownColumn(page: Page, column: string, n: number): Promise<string[]> {
  await page.waitForFunction((k) => document.querySelectorAll('table.rows tbody tr').length === k, n);
  const headers = await page.locator('table.rows th').allTextContents();
  const i = headers.indexOf(column);
  expect(i).toBeGreaterThanOrEqual(0);
  return page.locator(`table.rows tbody tr td:nth-child(${i + 1})`).allTextContents();
}

afterAll(async () => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

describe('clog ui database views', () => {
  for (const dir of [V1, V2]) {
    it(`lists the tables of ${dir} with the library's row counts, each name a link to its rows`, async () => {
      const expected = await library(dir);
      const url = await startUi(dir);
      const page = await browser().newPage();
      await page.goto(url);
      await page.click('nav >> text=Database');
      const shown = await shownTables(page);
      expect(shown.counts).toEqual(expected.counts);
      expect(Object.keys(shown.counts).length).toBeGreaterThan(5);
      for (const name of Object.keys(expected.counts)) expect(shown.hrefs[name]).toBe(`#rows/${name}`);
      expect(await page.locator('main').textContent()).toContain(`state after transaction ${expected.lastOffset}`);
      await page.close();
    }, 60_000);
  }

  it('leads from the table name to its rows: the chat message texts', async () => {
    const expected = (await library(V1)).rows('message').map((r) => r.text);
    expect(expected.length).toBeGreaterThan(1);
    const url = await startUi(V1);
    const page = await browser().newPage();
    await page.goto(`${url}/#database`);
    await page.locator('table.tables a', { hasText: /^message$/ }).click();
    expect(await shownColumn(page, 'text', expected.length)).toEqual(expected);
    expect(page.url()).toContain('#rows/message');
    await page.close();
  }, 60_000);

  it('travels back to an earlier transaction: fewer, earlier rows, as the library exports them at N', async () => {
    const head = await library(V1);
    // The first transaction at which the message table has fewer rows than at the head.
    let at = 0;
    let earlier = await library(V1, at);
    while (earlier.rows('message').length === 0 && at < head.lastOffset) earlier = await library(V1, ++at);
    expect(earlier.rows('message').length).toBeGreaterThan(0);
    expect(earlier.rows('message').length).toBeLessThan(head.rows('message').length);
    const url = await startUi(V1);
    const page = await browser().newPage();
    await page.goto(`${url}/#rows/message`);
    expect(await shownColumn(page, 'text', head.rows('message').length)).toEqual(head.rows('message').map((r) => r.text));
    await page.fill('form.at input[name=at]', String(at));
    await page.click('form.at button');
    expect(await shownColumn(page, 'text', earlier.rows('message').length)).toEqual(earlier.rows('message').map((r) => r.text));
    expect(page.url()).toContain(`at=${at}`);
    expect(await page.locator('main').textContent()).toContain(`state after transaction ${at}`);
    // The database view keeps the transaction, and its counts are the library's at N.
    await page.locator('a', { hasText: 'all tables' }).click();
    const shown = await shownTables(page);
    expect(shown.counts).toEqual(earlier.counts);
    expect(shown.hrefs.message).toBe(`#rows/message?at=${at}`);
    // Back to the head.
    await page.locator('form.at a', { hasText: 'head' }).click();
    await page.waitForFunction(() => !location.hash.includes('at='));
    // The earlier state's table stays on screen until the head's is drawn: wait for the head's.
    await page.locator('main', { hasText: 'the head: state after transaction' }).waitFor();
    expect((await shownTables(page)).counts).toEqual(head.counts);
    await page.close();
  }, 60_000);

  it('opens a commit from the commit list into its reducer, caller, timestamp and rows', async () => {
    const txs = [...decodedTransactions(V1)];
    const tx = txs.find((t) => t.reducer === 'send_message')!;
    const inserted = tx.inserts.find((o) => o.table === 'message')!;
    const url = await startUi(V1);
    const page = await browser().newPage();
    await page.goto(`${url}/#commits`);
    await page.locator(`tbody a[href="#commit/${tx.offset}"]`).click();
    await page.locator('h2', { hasText: `Commit holding transaction ${tx.offset}` }).waitFor();
    const text = (await page.locator('main').textContent())!;
    for (const s of [tx.reducer!, tx.caller!, tx.connectionId!, tx.timestamp!]) expect(text).toContain(s);
    expect(text).toContain(`inserted into message (${inserted.rows.length} row`);
    expect(await page.locator('section.ops table.rows td').allTextContents()).toContain((inserted.rows[0] as { text: string }).text);
    // Its table links to the rows right after the transaction.
    await page.locator('section.ops h4 a', { hasText: 'message' }).click();
    expect(page.url()).toContain(`#rows/message?at=${tx.offset}`);
    const after = (await library(V1, tx.offset)).rows('message');
    expect(await shownColumn(page, 'text', after.length)).toEqual(after.map((r) => r.text));
    await page.close();
  }, 60_000);

  it('filters rows on the server: any column, or one column', async () => {
    const rows = (await library(V1)).rows('message');
    const needle = 'clay';
    const matching = rows.filter((r) => JSON.stringify(r).toLowerCase().includes(needle));
    expect(matching.length).toBeGreaterThan(0);
    expect(matching.length).toBeLessThan(rows.length);
    const url = await startUi(V1);
    const page = await browser().newPage();
    await page.goto(`${url}/#rows/message`);
    await shownColumn(page, 'text', rows.length);
    await page.fill('form.filter input[name=filter]', 'CLAY');
    await page.click('form.filter button');
    expect(await shownColumn(page, 'text', matching.length)).toEqual(matching.map((r) => r.text));
    await page.selectOption('form.filter select', 'sender');
    await page.click('form.filter button');
    await shownColumn(page, 'text', 0);
    await page.locator('.note', { hasText: 'no rows match' }).waitFor();
    // The server does the filtering: the API answers the page it shows.
    const api = (await (await fetch(`${url}/api/rows?table=message&filter=${needle}&column=text`)).json()) as { rows: unknown[] };
    expect(api.rows.length).toBe(matching.length);
    await page.close();
  }, 60_000);

  it('pages through a table of thousands of rows', async () => {
    const dir = path.join(tempDir('clog-ui-db-gen-'), 'log');
    generateLog(dir, 1024 * 1024, 7, 32);
    const players = (await library(dir)).rows('player');
    expect(players.length).toBeGreaterThan(1000);
    const url = await startUi(dir);
    const page = await browser().newPage();
    await page.goto(`${url}/#rows/player`);
    expect(await shownColumn(page, 'id', 100)).toEqual(players.slice(0, 100).map((r) => String(r.id)));
    await page.locator('a', { hasText: 'next page' }).click();
    await page.waitForFunction(() => location.hash.includes('after='));
    await page.waitForFunction((first) => document.querySelector('table.rows tbody td')?.textContent === first, String(players[100]!.id));
    expect(await shownColumn(page, 'id', 100)).toEqual(players.slice(100, 200).map((r) => String(r.id)));
    const res = await fetch(`${url}/api/rows?table=player&limit=500`);
    expect(((await res.json()) as { rows: unknown[] }).rows.length).toBe(500);
    await page.close();
  }, 120_000);

  it('rebuilds the head when the log grows (commits appended after the first look)', async () => {
    const dir = tempDir('clog-ui-db-grow-');
    const seg = path.join(dir, '00000000000000000000.stdb.log');
    const full = fs.readFileSync(path.join(V1, '00000000000000000000.stdb.log'));
    const cut = 165_490; // where commit 4 starts: the copy holds transactions 0..3
    fs.writeFileSync(seg, full.subarray(0, cut));
    const [early, head] = [await library(dir), await library(V1)];
    expect(early.lastOffset).toBe(3);
    const url = await startUi(dir);
    const page = await browser().newPage();
    await page.goto(`${url}/#rows/message`);
    expect(await shownColumn(page, 'text', early.rows('message').length)).toEqual(early.rows('message').map((r) => r.text));
    fs.appendFileSync(seg, full.subarray(cut)); // what a writer appending commits 4..8 does
    await page.reload();
    expect(await shownColumn(page, 'text', head.rows('message').length)).toEqual(head.rows('message').map((r) => r.text));
    await page.goto(`${url}/#database`);
    await page.locator('.state', { hasText: `state after transaction ${head.lastOffset}` }).waitFor();
    expect((await shownTables(page)).counts).toEqual(head.counts);
    await page.close();
  }, 60_000);

  it('builds a big state in the background: progress first, other requests answered meanwhile', async () => {
    const dir = path.join(tempDir('clog-ui-db-big-'), 'log');
    const contents = generateLog(dir, 64 * 1024 * 1024, 11, 64);
    const url = await startUi(dir);
    // Warm the overview's own cache first: what is measured below is the build's effect only.
    expect((await fetch(`${url}/api/overview`)).status).toBe(200);
    const first = await fetch(`${url}/api/database`);
    expect(first.status).toBe(202);
    const body = (await first.json()) as { building: boolean; progress: { totalBytes: number } };
    expect(body.building).toBe(true);
    // Answered while the state is still building (the build yields between batches), not after it.
    const t0 = Date.now();
    expect((await fetch(`${url}/api/overview`)).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await fetch(`${url}/api/database`)).status).toBe(202);
    const page = await browser().newPage();
    await page.goto(`${url}/#database`);
    const shown = await shownTables(page);
    expect([shown.counts.player, shown.counts.event]).toEqual([contents.player.live, contents.event.live]);
    await page.close();
  }, 120_000);

  it('shows where a damaged log is damaged, with the state before the damage', async () => {
    const dir = tempDir('clog-ui-db-damaged-');
    fs.cpSync(V1, dir, { recursive: true });
    const seg = path.join(dir, '00000000000000000000.stdb.log');
    const bytes = fs.readFileSync(seg);
    bytes[165_000] ^= 0xff; // inside the second commit (offset 1)
    fs.writeFileSync(seg, bytes);
    const before = await library(V1, 0);
    const url = await startUi(dir);
    const page = await browser().newPage();
    await page.goto(`${url}/#database`);
    const error = page.locator('.error').first();
    await error.waitFor();
    expect(await error.textContent()).toMatch(/damaged log: checksum mismatch at offset=1 in segment 0/);
    expect((await shownTables(page)).counts).toEqual(before.counts);
    await page.goto(`${url}/#rows/message`);
    await page.locator('.error').first().waitFor();
    expect(await page.locator('h2').textContent()).toBe('Table message');
    await page.goto(`${url}/#commit/4`);
    await page.locator('.error', { hasText: 'checksum mismatch' }).waitFor();
    await page.close();
  }, 60_000);

  it('validates every parameter (400), and answers 404 for what is not there', async () => {
    const url = await startUi(V1);
    const status = async (p: string) => (await fetch(url + p)).status;
    expect(await status('/api/commit')).toBe(400);
    expect(await status('/api/commit?offset=abc')).toBe(400);
    expect(await status('/api/commit?offset=1&offset=2')).toBe(400);
    expect(await status('/api/commit?offset=99')).toBe(404);
    expect(await status('/api/commit?offset=3')).toBe(200);
    expect(await status('/api/database?at=-1')).toBe(400);
    expect(await status('/api/database?at=1e3')).toBe(400);
    expect(await status('/api/database?when=3')).toBe(400);
    expect(await status('/api/rows')).toBe(400);
    expect(await status('/api/rows?table=message&limit=501')).toBe(400);
    expect(await status('/api/rows?table=message&after=x')).toBe(400);
    expect(await status(`/api/rows?table=message&filter=${'x'.repeat(300)}`)).toBe(400);
    expect(await status('/api/rows?table=message&filter=a&column=nope')).toBe(400);
    expect(await status('/api/rows?table=nope')).toBe(404);
    expect(await status('/api/rows?table=message&at=3')).toBe(200);
    // Behind the token like every other route.
    const guarded = await startUi(V1, ['--token', 's3cret']);
    for (const p of ['/api/database', '/api/rows?table=message', '/api/commit?offset=3']) {
      expect((await fetch(guarded + p)).status).toBe(401);
      expect((await fetch(guarded + p, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    }
  }, 60_000);

  it('keeps its SQLite states in a temp dir that is removed when the server stops', async () => {
    const tmp = tempDir('clog-ui-db-tmp-');
    const url = await startUi(V1, [], { ...process.env, TMPDIR: tmp });
    for (const at of ['', '?at=2', '?at=4', '?at=6', '?at=8']) expect((await fetch(`${url}/api/database${at}`)).status).toBe(200);
    const states = fs.readdirSync(tmp).filter((n) => n.startsWith('clog-ui-states-'));
    expect(states).toHaveLength(1);
    // A small LRU: older states are evicted, their files removed.
    expect(fs.readdirSync(path.join(tmp, states[0]!)).length).toBeLessThanOrEqual(3);
    const child = lastUi();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('clog-ui-states-'))).toEqual([]);
  }, 60_000);
});
