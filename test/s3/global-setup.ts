/**
 * Starts one real radosgw for the whole vitest run, in the background: the ports are chosen here and
 * handed to the test files at once (`inject('rgw')`), and the S3 tests wait for readiness through
 * `s3Env()` (test/s3/rgw.ts). Test runs that never touch S3 therefore do not wait for Ceph's bring-up.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { radosgwStartEnv } from '../../bench/s3-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    rgw: { dir: string };
  }
}

/** One bring-up attempt under a fresh directory and fresh ports; resolves with the script's exit code. */
function startOnce(script: string, dir: string): Promise<number> {
  return (async () => {
    const env = await radosgwStartEnv();
    const out = fs.openSync(path.join(dir, 'start.out'), 'w');
    const child = spawn('bash', [script, 'start', dir], { env, stdio: ['ignore', out, out] });
    return new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  })();
}

function stop(script: string, dir: string): Promise<void> {
  return new Promise<void>((resolve) => spawn('bash', [script, 'stop', dir], { stdio: 'ignore' }).on('exit', () => resolve()));
}

const ATTEMPTS = 3;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const script = path.join(import.meta.dirname, 'radosgw.sh');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-rgw-'));
  const current = path.join(root, 'current');
  fs.writeFileSync(current, '');
  // Ceph's one-node bring-up fails now and then (an OSD refused by its monitor): retry on fresh ports.
  const started = (async () => {
    let code = 1;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const dir = path.join(root, `try${attempt}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(current, dir);
      code = await startOnce(script, dir);
      if (code === 0) break;
      await stop(script, dir);
    }
    fs.writeFileSync(path.join(root, 'done'), String(code));
  })();
  project.provide('rgw', { dir: root });
  return async () => {
    await started;
    const dir = fs.readFileSync(current, 'utf8');
    if (dir) await stop(script, dir);
    // A failed bring-up's logs are kept for whoever reads the error.
    if (fs.readFileSync(path.join(root, 'done'), 'utf8') === '0') fs.rmSync(root, { recursive: true, force: true });
  };
}
