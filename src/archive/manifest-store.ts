/** The manifest object of an archive: read (validated) and put. It is the only object a reader trusts. */
import type { S3Client } from '@aws-sdk/client-s3';
import { decodeManifest, encodeManifest, type Manifest } from './manifest.js';
import { getBytes, objectKey, putBytes, type S3Target } from './s3-client.js';

export const MANIFEST_NAME = 'manifest.json';

export async function readManifest(client: S3Client, target: S3Target): Promise<Manifest | null> {
  const b = await getBytes(client, target.bucket, objectKey(target, MANIFEST_NAME));
  return b === null ? null : decodeManifest(b);
}

/** Puts the manifest (validated by `encodeManifest`): the one step that makes new objects part of the archive. */
export async function putManifest(client: S3Client, target: S3Target, m: Manifest): Promise<void> {
  await putBytes(client, target.bucket, objectKey(target, MANIFEST_NAME), encodeManifest(m));
}
