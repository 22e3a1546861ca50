// The radosgw of this test run (started by test/s3/global-setup.ts): waits until it answers, then
// gives its endpoint and keys. A server that failed to start fails the test with its log.
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { parseRadosgwEnv } from '../../bench/s3-server.js';

export interface S3Env {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export async function s3Env(timeoutMs = 150_000): Promise<S3Env> {
  const { dir } = inject('rgw');
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(path.join(dir, 'done'))) {
    if (Date.now() > deadline) throw new Error(`radosgw not up after ${timeoutMs} ms (see ${dir})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const code = fs.readFileSync(path.join(dir, 'done'), 'utf8');
  const out = fs.readFileSync(path.join(fs.readFileSync(path.join(dir, 'current'), 'utf8'), 'start.out'), 'utf8');
  if (code !== '0') throw new Error(`radosgw failed to start (exit ${code}):\n${out}`);
  return parseRadosgwEnv(out);
}

/** Sets the AWS_* variables the way a user would, so the code under test finds the keys itself. */
export async function useS3Env(): Promise<S3Env> {
  const e = await s3Env();
  process.env.AWS_ACCESS_KEY_ID = e.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = e.secretAccessKey;
  process.env.AWS_REGION = e.region;
  return e;
}
