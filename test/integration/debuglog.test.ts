/**
 * `NODE_DEBUG=commitlog` reports repairs on stderr (SPEC §12.6 leaves the format free; the project logs
 * resume decisions through `util.debuglog`). Runs the built package (`dist/`, made by `npm test`'s tsc)
 * in a child process, since debuglog reads NODE_DEBUG once at startup.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commitlog } from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST_INDEX = path.join(ROOT, 'dist/src/index.js');
const SEGMENT_0 = '00000000000000000000.stdb.log';

// Opens the log named by CLOG_DIR and prints what it resumed at.
const SCRIPT = `
import { Commitlog } from ${JSON.stringify(pathToFileURL(DIST_INDEX).href)};
const log = Commitlog.open(process.env.CLOG_DIR);
console.log(JSON.stringify({ max: log.maxCommittedOffset() }));
log.close();
`;

let dir = '';
let size = 0;

beforeAll(() => {
  // `npm test` builds first; a bare `vitest run` may not have.
  if (!fs.existsSync(DIST_INDEX)) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: ROOT });
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  const log = Commitlog.open(dir);
  log.appendMaybeFlush(new Uint8Array(32));
  log.flushAndSync();
  log.close();
  size = fs.statSync(path.join(dir, SEGMENT_0)).size;
  expect(size).toBe(10 + 26 + 32);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function openInChild(nodeDebug: string | undefined): { stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, CLOG_DIR: dir };
  delete env.NODE_DEBUG;
  if (nodeDebug !== undefined) env.NODE_DEBUG = nodeDebug;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('NODE_DEBUG=commitlog', () => {
  it('logs the truncation of 10 junk trailing bytes on open', () => {
    fs.appendFileSync(path.join(dir, SEGMENT_0), Buffer.alloc(10, 0xab));
    const { stdout, stderr } = openInChild('commitlog');
    expect(JSON.parse(stdout)).toEqual({ max: 0 });
    expect(fs.statSync(path.join(dir, SEGMENT_0)).size).toBe(size);
    const lines = stderr.split('\n').filter((l) => /^COMMITLOG \d+:/.test(l));
    const truncation = lines.filter((l) => /truncat/i.test(l));
    expect(truncation.length).toBeGreaterThan(0);
    expect(truncation.some((l) => /\b10\b/.test(l))).toBe(true);
  });

  it('is silent without NODE_DEBUG', () => {
    fs.appendFileSync(path.join(dir, SEGMENT_0), Buffer.alloc(10, 0xab));
    const { stdout, stderr } = openInChild(undefined);
    expect(JSON.parse(stdout)).toEqual({ max: 0 });
    expect(fs.statSync(path.join(dir, SEGMENT_0)).size).toBe(size);
    expect(stderr).not.toMatch(/COMMITLOG/);
  });
});
