/**
 * The shared memory between `SyncS3` (the caller, blocked in `Atomics.wait`) and its S3 worker thread:
 * one request at a time. Layout of the SharedArrayBuffer:
 *
 *   bytes  0..16   Int32  [state, status, length, unused]
 *   bytes 16..24   Float64 total size of the object (from Content-Range), -1 when unknown
 *   bytes 24..     the response: object bytes (status OK) or a UTF-8 error message (any other status)
 *
 * The worker fills the response, then sets `state` to DONE and notifies. Nothing else is shared.
 */

export const STATE = 0;
export const STATUS = 1;
export const LENGTH = 2;
export const HEADER_BYTES = 24;
const TOTAL_AT = 16;

export const STATE_PENDING = 0;
export const STATE_DONE = 1;

export const STATUS_OK = 0;
/** NoSuchKey / 404. */
export const STATUS_NOT_FOUND = 1;
/** 416: the range starts at or past the end of the object. */
export const STATUS_RANGE = 2;
/** The response held more bytes than the range asked for, or than the buffer holds. */
export const STATUS_OVERFLOW = 3;
/** Any other failure (network, credentials, 5xx after the SDK's retries). */
export const STATUS_ERROR = 4;

/** A ranged GET of `[start, end)`; the worker writes at most `end - start` bytes. */
export interface RangeRequest {
  bucket: string;
  key: string;
  start: number;
  end: number;
}

export interface WorkerInit {
  endpoint: string | undefined;
  shared: SharedArrayBuffer;
}

export function controlOf(shared: SharedArrayBuffer): Int32Array {
  return new Int32Array(shared, 0, 4);
}

export function totalOf(shared: SharedArrayBuffer): Float64Array {
  return new Float64Array(shared, TOTAL_AT, 1);
}

export function dataOf(shared: SharedArrayBuffer): Uint8Array {
  return new Uint8Array(shared, HEADER_BYTES);
}
