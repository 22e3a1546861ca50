/**
 * The README's screenshots of `clog ui`, taken in the system Chromium: `UI_SCREENSHOTS=1 npx vitest run
 * test/ui/screenshots.test.ts` writes docs/ui/*.png. Without UI_SCREENSHOTS the same views are opened
 * and checked to render without an error, and nothing is written.
 *
 * overview and commits use a generated log of several segments (so the chart has bars to show); the
 * commit, database and rows views use the SpacetimeDB 1.2 chat fixture, whose payload is real Txdata.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startUi, useBrowser } from './browser.js';
import { makeLog } from './make-log.js';

const WRITE = process.env.UI_SCREENSHOTS === '1';
const OUT = 'docs/ui';
const FIXTURE = 'test/fixtures/spacetimedb-v1.2/clog';

const browser = useBrowser();
let generated: string;
let generatedUrl: string;
let fixtureUrl: string;

beforeAll(async () => {
  generated = makeLog(3000, 'clog-ui-shots-');
  generatedUrl = await startUi(generated);
  fixtureUrl = await startUi(FIXTURE);
  if (WRITE) fs.mkdirSync(OUT, { recursive: true });
}, 60_000);
afterAll(async () => {
  fs.rmSync(generated, { recursive: true, force: true });
});

/** The main element's text once it has left "loading…" (what a view renders). */
async function rendered(page: Page): Promise<string> {
  await page.waitForFunction(() => {
    const m = document.getElementById('main');
    return m !== null && m.textContent !== 'loading…' && m.childElementCount > 0;
  });
  await page.locator('#live-status[data-next]').waitFor({ state: 'attached' }); // the live stream is connected
  return (await page.locator('main').textContent()) ?? '';
}

async function open(url: string, hash: string): Promise<{ page: Page; text: string }> {
  const page = await browser().newPage({ viewport: { width: 1100, height: 700 } });
  await page.goto(`${url}/${hash}`);
  const text = await rendered(page);
  expect(await page.locator('main .error').count(), `${hash} shows an error`).toBe(0);
  return { page, text };
}

async function shoot(page: Page, name: string): Promise<void> {
  if (WRITE) await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
}

describe('clog ui views (screenshots with UI_SCREENSHOTS=1)', () => {
  it('overview, with the chart and a verify result', async () => {
    const { page, text } = await open(generatedUrl, '#overview');
    expect(text).toContain('00000000000000000000.stdb.log');
    await page.click('#verify button');
    await page.locator('#verify .verify-ok').waitFor();
    expect(await page.locator('svg.chart rect.bar').count()).toBeGreaterThan(1);
    await shoot(page, 'overview');
    await page.close();
  }, 60_000);

  it('commits', async () => {
    const { page } = await open(generatedUrl, '#commits/1200');
    expect(await page.locator('main tbody tr td:first-child').first().textContent()).toBe('1200');
    await shoot(page, 'commits');
    await page.close();
  }, 60_000);

  // Commit detail, database and rows: the chat fixture, whose `message` table has real texts.
  for (const [name, hash, ready, expected] of [
    ['commit', '#commit/3', 'table.rows', 'send_message'],
    ['database', '#database', 'table.tables', 'message'],
    ['rows', '#rows/message', 'table.rows', 'omg'],
  ] as const) {
    it(`${name} (${hash})`, async () => {
      const page = await browser().newPage({ viewport: { width: 1100, height: 700 } });
      await page.goto(`${fixtureUrl}/${hash}`);
      await page.locator(`main ${ready}`).first().waitFor(); // a state may first show its build progress
      expect(await page.locator('main .error').count(), `${hash} shows an error`).toBe(0);
      expect(((await page.locator('main').textContent()) ?? '').toLowerCase()).toContain(expected);
      await shoot(page, name);
      await page.close();
    }, 60_000);
  }
});
