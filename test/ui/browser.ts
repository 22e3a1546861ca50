/** Shared by the browser tests of `clog ui`: the system Chromium (never a downloaded one) and the CLI server. */
import { type ChildProcess, spawn } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** No skip: a missing /usr/bin/chromium fails the suite. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
}

export interface UiProcess {
  url: string;
  child: ChildProcess;
}

const children: ChildProcess[] = [];

/** Starts `clog ui DIR --port 0` from dist/ (build first) and resolves with its URL. */
export async function startUiProcess(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<UiProcess> {
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'ui', dir, '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env });
  children.push(child);
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) return { url: m[1]!, child };
  }
  throw new Error(`clog ui exited: ${out}`);
}

export async function startUi(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return (await startUiProcess(dir, extra, env)).url;
}

/** The process behind the newest `startUi` (to stop one on its own). */
export function lastUi(): ChildProcess {
  return children.at(-1)!;
}

/** Kills the servers started by this test file. */
export function stopAll(): void {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill();
}

/**
 * Registers the hooks every browser test file needs: the system Chromium launched before its tests,
 * closed after them with the `clog ui` servers they started. Returns the browser's getter.
 */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    stopAll();
  });
  return () => browser!;
}
