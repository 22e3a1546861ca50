// The bucket of one archive test file on the run's radosgw: created in beforeAll, with a client.
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { makeS3Client, type S3Target } from '../../src/api/archive.js';
import { cleanTmp } from './log-gen.js';
import { useS3Env } from './rgw.js';

export interface TestBucket {
  name: string;
  client: S3Client;
  endpoint: string;
}

/** Registers the hooks; the fields are filled once beforeAll has run. */
export function useBucket(name: string): TestBucket {
  const b = { name } as TestBucket;
  beforeAll(async () => {
    b.endpoint = (await useS3Env()).endpoint;
    b.client = makeS3Client(b.endpoint);
    await b.client.send(new CreateBucketCommand({ Bucket: name }));
  }, 180_000);
  afterAll(cleanTmp);
  return b;
}

/** The keys under a target's prefix, relative to it, sorted. */
export async function listKeys(b: TestBucket, t: S3Target): Promise<string[]> {
  const r = await b.client.send(new ListObjectsV2Command({ Bucket: b.name, Prefix: `${t.prefix}/` }));
  return (r.Contents ?? []).map((o) => o.Key!.slice(t.prefix.length + 1)).sort();
}
