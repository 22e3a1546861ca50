/** The S3 client and URL parsing: credentials and endpoint the way AWS tools take them. */
import { createHash } from 'node:crypto';
import { S3Client, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { InvalidDataError, InvalidInputError, IoError, NotFoundError } from '../errors.js';

/** DeleteObjects takes at most this many keys per request (the S3 API limit). */
const MAX_DELETE_KEYS = 1000;

export interface S3Target {
  bucket: string;
  /** Key prefix without a trailing slash ('' for the bucket root). */
  prefix: string;
}

export function parseS3Url(url: string): S3Target {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new InvalidInputError(`not an s3:// URL: ${url}`);
  return { bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') };
}

export function objectKey(t: S3Target, name: string): string {
  return t.prefix === '' ? name : `${t.prefix}/${name}`;
}

/** Path-style addressing whenever an endpoint is given (MinIO, Ceph, R2 need it); SDK retries (5xx, resets). */
export function makeS3Client(endpoint?: string): S3Client {
  const ep = endpoint ?? process.env.AWS_ENDPOINT_URL;
  return new S3Client({
    region: process.env.AWS_REGION ?? 'us-east-1',
    ...(ep ? { endpoint: ep, forcePathStyle: true } : {}),
    maxAttempts: 6,
  });
}

/**
 * Attempts at a GET whose body breaks off: the SDK's own retries (maxAttempts) end once the response
 * headers arrive, so a connection cut mid-body would otherwise fail a restore outright.
 */
const BODY_ATTEMPTS = 4;
/** First pause before a body retry; doubled each time (100, 200, 400 ms), like the SDK's backoff. */
const BODY_RETRY_BASE_MS = 100;

export async function getBytes(client: S3Client, bucket: string, key: string): Promise<Uint8Array | null> {
  for (let attempt = 1; ; attempt++) {
    let r;
    try {
      r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') return null;
      throw e;
    }
    try {
      const body = await r.Body!.transformToByteArray();
      if (r.ContentLength !== undefined && body.length !== r.ContentLength) {
        throw new Error(`s3://${bucket}/${key}: body of ${body.length} bytes, Content-Length ${r.ContentLength}`);
      }
      return body;
    } catch (e) {
      // Only transport fails while a body streams in; the request itself already succeeded.
      if (attempt >= BODY_ATTEMPTS) throw new IoError(`reading s3://${bucket}/${key}: body broke off ${attempt} times`, { cause: e });
      await new Promise((res) => setTimeout(res, BODY_RETRY_BASE_MS * 2 ** (attempt - 1)));
    }
  }
}

export async function getRequired(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const b = await getBytes(client, bucket, key);
  if (b === null) throw new NotFoundError(`archive object missing: s3://${bucket}/${key}`);
  return b;
}

export async function putBytes(client: S3Client, bucket: string, key: string, body: Uint8Array): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length }));
}

/**
 * Puts `body` and checks what the server stored before anyone names it: the request carries the
 * body's MD5 (Content-MD5, which S3 and radosgw verify, refusing a damaged transfer with BadDigest),
 * the returned ETag must be that MD5 when it has the plain-MD5 form (single PUT, no SSE-KMS), and a
 * HEAD must report the body's length. Not every server checks an `x-amz-checksum-crc32c` header
 * (radosgw 19 ignores it), so the CRC32C the manifest records is the one computed over the bytes
 * sent; restore checks it on every object it reads.
 */
export async function putVerified(client: S3Client, bucket: string, key: string, body: Uint8Array): Promise<void> {
  const md5 = createHash('md5').update(body).digest();
  const r = await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentMD5: md5.toString('base64') }),
  );
  const etag = r.ETag?.replace(/"/g, '').toLowerCase();
  if (etag !== undefined && /^[0-9a-f]{32}$/.test(etag) && etag !== md5.toString('hex')) {
    throw new InvalidDataError(`archive object s3://${bucket}/${key}: stored ETag ${etag} is not the MD5 of what was sent`);
  }
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  if (head.ContentLength !== body.length) {
    throw new InvalidDataError(`archive object s3://${bucket}/${key}: server holds ${String(head.ContentLength)} bytes, ${body.length} were sent`);
  }
}

/** Deletes keys in batches; a key that is already gone is not an error (S3 semantics). */
export async function deleteKeys(client: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += MAX_DELETE_KEYS) {
    const batch = keys.slice(i, i + MAX_DELETE_KEYS);
    const r = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    const failed = r.Errors ?? [];
    if (failed.length > 0) {
      throw new IoError(`could not delete ${failed.length} archive object(s), first s3://${bucket}/${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message}`);
    }
  }
}
