/**
 * Starts one real radosgw for the whole vitest run, in the background: the ports are chosen here and
 * handed to the test files at once (`inject('rgw')`), and the S3 tests wait for readiness through
 * `s3Env()` (test/s3/rgw.ts). Test runs that never touch S3 therefore do not wait for Ceph's bring-up.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    rgw: { dir: string };
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const script = path.join(import.meta.dirname, 'radosgw.sh');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-rgw-'));
  const env = { ...process.env, RGW_PORT: String(await freePort()), MON_PORT: String(await freePort()) };
  const out = fs.openSync(path.join(dir, 'start.out'), 'w');
  const child = spawn('bash', [script, 'start', dir], { env, stdio: ['ignore', out, out] });
  const started = new Promise<void>((resolve) => {
    child.on('exit', (code) => {
      fs.writeFileSync(path.join(dir, 'done'), String(code ?? 1));
      resolve();
    });
  });
  project.provide('rgw', { dir });
  return async () => {
    await started;
    await new Promise<void>((resolve) => spawn('bash', [script, 'stop', dir], { stdio: 'ignore' }).on('exit', () => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
