/** Shared by the browser tests of `clog ui`: headless system Chromium (playwright-core) and `clog ui` child processes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';

export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const children: ChildProcess[] = [];

/** No skip: a missing /usr/bin/chromium fails the suite. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
}

/** Starts `clog ui DIR --port 0` (the built CLI) and resolves with its URL. */
export async function startUi(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'ui', dir, '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env });
  children.push(child);
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) return m[1]!;
  }
  throw new Error(`clog ui exited: ${out}`);
}

/** The process behind the newest `startUi` (to stop one on its own). */
export function lastUi(): ChildProcess {
  return children.at(-1)!;
}

/** Ends the `clog ui` processes this test file started. */
export function stopUis(): void {
  for (const c of children) c.kill();
  children.length = 0;
}
