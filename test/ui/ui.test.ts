/** `clog ui` in a real browser: headless system Chromium driven by playwright-core. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startUi, useBrowser } from './browser.js';

const browser = useBrowser();


describe('clog ui', () => {
  for (const fixture of ['spacetimedb-v1.2', 'spacetimedb-v2.6']) {
    it(`shows the overview and commits of ${fixture}`, async () => {
      const url = await startUi(`test/fixtures/${fixture}/clog`);
      const page = await browser().newPage();
      await page.goto(url);
      await page.locator('table').first().waitFor();
      expect(await page.locator('main').textContent()).toContain('00000000000000000000.stdb.log');
      await page.click('text=Commits');
      await page.locator('th', { hasText: 'checksum' }).waitFor();
      const rows = await page.locator('tbody tr').count();
      expect(rows).toBeGreaterThan(0);
      await page.close();
    }, 30_000);
  }

  it('refuses without the token and accepts ?token=', async () => {
    const url = await startUi('test/fixtures/spacetimedb-v1.2/clog', ['--token', 's3cret']);
    expect((await fetch(`${url}/api/overview`)).status).toBe(401);
    expect((await fetch(`${url}/api/commits?limit=abc`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(400);
    const page = await browser().newPage();
    await page.goto(`${url}/?token=s3cret`);
    await page.locator('table').first().waitFor();
    expect(await page.locator('main').textContent()).toContain('stdb.log');
    await page.close();
  }, 30_000);

  it('shows where a damaged log is damaged instead of failing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-ui-damaged-'));
    fs.cpSync('test/fixtures/spacetimedb-v1.2/clog', dir, { recursive: true });
    const seg = path.join(dir, '00000000000000000000.stdb.log');
    const bytes = fs.readFileSync(seg);
    bytes[165_000] ^= 0xff; // inside the second commit (offset 1)
    fs.writeFileSync(seg, bytes);
    try {
      const url = await startUi(dir);
      const page = await browser().newPage();
      await page.goto(`${url}/#commits/0`);
      await page.locator('.error').first().waitFor();
      expect(await page.locator('tbody tr').count()).toBe(1);
      await page.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
