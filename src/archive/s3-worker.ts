/**
 * The worker thread behind `SyncS3`: performs one ranged GetObject per message and writes the bytes
 * (never more than asked, never more than the shared buffer holds) and a status into shared memory.
 * It trusts nothing from the network: the caller checks counts and sizes again.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  LENGTH,
  type RangeRequest,
  STATE,
  STATE_DONE,
  STATUS,
  STATUS_ERROR,
  STATUS_NOT_FOUND,
  STATUS_OK,
  STATUS_OVERFLOW,
  STATUS_RANGE,
  type WorkerInit,
  controlOf,
  dataOf,
  totalOf,
} from './sync-protocol.js';

const init = workerData as WorkerInit;
const control = controlOf(init.shared);
const total = totalOf(init.shared);
const data = dataOf(init.shared);

function finish(status: number, length: number): void {
  Atomics.store(control, STATUS, status);
  Atomics.store(control, LENGTH, length);
  Atomics.store(control, STATE, STATE_DONE);
  Atomics.notify(control, STATE);
}

function fail(status: number, message: string): void {
  const bytes = new TextEncoder().encode(message).subarray(0, data.length);
  data.set(bytes, 0);
  finish(status, bytes.length);
}

/** `bytes 0-99/1234` → 1234; -1 when absent or `*`. */
function totalFromContentRange(range: string | undefined): number {
  const m = /\/(\d+)\s*$/.exec(range ?? '');
  return m ? Number(m[1]) : -1;
}

type Sdk = { GetObjectCommand: typeof import('@aws-sdk/client-s3').GetObjectCommand; client: import('@aws-sdk/client-s3').S3Client };

async function get(sdk: Sdk, req: RangeRequest): Promise<void> {
  const { GetObjectCommand, client } = sdk;
  const want = req.end - req.start;
  if (want <= 0 || want > data.length) return fail(STATUS_OVERFLOW, `range of ${want} bytes does not fit the ${data.length}-byte buffer`);
  total[0] = -1;
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: req.bucket, Key: req.key, Range: `bytes=${req.start}-${req.end - 1}` }));
    total[0] = totalFromContentRange(r.ContentRange);
    if (r.ContentLength !== undefined && r.ContentLength > want) {
      (r.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return fail(STATUS_OVERFLOW, `Content-Length ${r.ContentLength} for a range of ${want} bytes`);
    }
    let got = 0;
    for await (const chunk of r.Body as AsyncIterable<Uint8Array>) {
      if (got + chunk.length > want) {
        (r.Body as { destroy?: () => void }).destroy?.();
        return fail(STATUS_OVERFLOW, `more than the ${want} bytes asked for`);
      }
      data.set(chunk, got);
      got += chunk.length;
    }
    finish(STATUS_OK, got);
  } catch (e) {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const http = err.$metadata?.httpStatusCode;
    if (err.name === 'NoSuchKey' || err.name === 'NotFound' || http === 404) return fail(STATUS_NOT_FOUND, err.message ?? 'not found');
    if (err.name === 'InvalidRange' || http === 416) return fail(STATUS_RANGE, err.message ?? 'range not satisfiable');
    fail(STATUS_ERROR, `${err.name ?? 'Error'}: ${err.message ?? String(e)}${http ? ` (HTTP ${http})` : ''}`);
  }
}

// Loaded here rather than imported statically: a failure to load the SDK is then an answer to every
// request (the caller is blocked and would otherwise only see its timeout).
try {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const { makeS3Client } = await import('./s3-client.js');
  const sdk: Sdk = { GetObjectCommand, client: makeS3Client(init.endpoint) };
  parentPort!.on('message', (req: RangeRequest) => void get(sdk, req));
} catch (e) {
  const message = `S3 worker failed to start: ${(e as Error)?.message ?? String(e)}`;
  parentPort!.on('message', () => fail(STATUS_ERROR, message));
}
