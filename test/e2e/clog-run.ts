/**
 * Running the real `clog` binary (dist/src/cli/main.js, built by `npm test` / `npx tsc`) in a child
 * process, as a user would, for the CLI end-to-end tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CommitPlace, writeLog } from '../unit/maintenance/log-fixtures.js';

export const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/cli/main.js');
export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function start(args: string[], cwd?: string): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
}

/** Runs `clog ...args` to completion (killed after `timeoutMs` so nothing hangs). */
export function clog(...args: string[]): Promise<Run> {
  return clogIn(undefined, ...args);
}

/** `clog` run in the working directory `cwd` (to see what relative paths it would create). */
export function clogIn(cwd: string | undefined, ...args: string[]): Promise<Run> {
  const child = start(args, cwd);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** dump and tail print each CRC32C as 8 hex digits; expected-commits.json has the numbers. */
export function hexChecksums(commits: Array<Record<string, number>>): Array<Record<string, unknown>> {
  return commits.map((c) => ({ ...c, checksum: c.checksum!.toString(16).padStart(8, '0') }));
}

/** The JSON lines of a run's stdout. */
export function jsonLines(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

/** A copy of a fixture's clog directory in `into`, and its expected commits. */
export function copyFixture(name: string, into: string): { dir: string; expected: { commits: Array<Record<string, number>> } } {
  const dir = path.join(into, name);
  fs.cpSync(path.join(FIXTURES, name, 'clog'), dir, { recursive: true });
  const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'expected-commits.json'), 'utf8'));
  return { dir, expected };
}

/** A generated 40-commit log (segments 0, 13, 26, 39, SPEC layout) in a new directory `root/name`. */
export function generatedLog(root: string, name: string): { dir: string; places: CommitPlace[] } {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  return { dir, places: writeLog(dir, { commits: 40 }) };
}

/** Byte snapshot of every file of a directory (to check that a command changed nothing). */
export function snapshot(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(path.join(dir, n))]));
}

/** A running `clog serve DIR --port 0 …`, with the URL from its first stdout line and its stderr so far. */
export interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Starts `clog serve`; stop it with `child.kill()` (the caller's afterAll/finally). */
export async function serveLog(dir: string, ...extra: string[]): Promise<Served> {
  const child = start(['serve', dir, '--port', '0', ...extra]);
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed nothing: ${out} ${err}`)), 10_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
  const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
  if (!m) throw new Error(`unexpected first line of serve: ${line}`);
  return { child, url: m[1]!, stderr: () => err };
}
