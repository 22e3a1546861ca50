/**
 * The S3 server a benchmark runs against: the one named by S3_ENDPOINT (keys from AWS_*), or its own
 * radosgw started through test/s3/radosgw.sh on free ports (and stopped by `stop`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/s3/radosgw.sh');
/** Bring-up fails now and then on a loaded machine (radosgw slow to answer): one more try. */
const START_ATTEMPTS = 2;

export interface S3Server {
  endpoint: string;
  /** 'own radosgw' or 'S3_ENDPOINT'. */
  origin: string;
  stop(): void;
}

/** A TCP port free on 127.0.0.1 right now (for radosgw and its monitor). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The environment `radosgw.sh start` reads: fresh free ports, and the OSD's capacity when given. */
export async function radosgwStartEnv(memstoreBytes?: number): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...process.env, RGW_PORT: String(await freePort()), MON_PORT: String(await freePort()) };
  if (memstoreBytes !== undefined) env.MEMSTORE_BYTES = String(memstoreBytes);
  return env;
}

/** The `KEY=value` lines `radosgw.sh start` prints. */
export function parseRadosgwEnv(stdout: string): { endpoint: string; accessKeyId: string; secretAccessKey: string; region: string } {
  const kv = Object.fromEntries(stdout.trim().split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]));
  return { endpoint: kv.S3_ENDPOINT!, accessKeyId: kv.S3_ACCESS_KEY_ID!, secretAccessKey: kv.S3_SECRET_ACCESS_KEY!, region: kv.S3_REGION ?? 'us-east-1' };
}

/** `memstoreBytes`: capacity of radosgw's in-memory OSD (deleted objects are freed only hours later). */
export async function startS3(memstoreBytes: number): Promise<S3Server> {
  if (process.env.S3_ENDPOINT) return { endpoint: process.env.S3_ENDPOINT, origin: 'S3_ENDPOINT', stop: () => {} };
  let last = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-bench-rgw-'));
    const env = await radosgwStartEnv(memstoreBytes);
    const r = spawnSync('bash', [SCRIPT, 'start', dir], { env, encoding: 'utf8' });
    const stop = (): void => {
      spawnSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore' });
      fs.rmSync(dir, { recursive: true, force: true });
    };
    if (r.status === 0) {
      const e = parseRadosgwEnv(r.stdout);
      process.env.AWS_ACCESS_KEY_ID = e.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = e.secretAccessKey;
      process.env.AWS_REGION = e.region;
      return { endpoint: e.endpoint, origin: 'own radosgw (test/s3/radosgw.sh)', stop };
    }
    last = `${r.stdout}${r.stderr}`;
    stop();
  }
  throw new Error(`radosgw did not start:\n${last}`);
}
