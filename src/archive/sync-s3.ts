/**
 * Synchronous ranged GETs for the synchronous `Repo` interface: the AWS SDK is asynchronous, so it
 * runs in a worker thread and the caller blocks in `Atomics.wait` until the worker has written the
 * bytes and a status into a SharedArrayBuffer (`sync-protocol.ts`). Every answer is checked here
 * against what was asked: the byte count and, when known, the object's total size.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InvalidDataError, InvalidInputError, IoError, NotFoundError } from '../errors.js';
import {
  HEADER_BYTES,
  LENGTH,
  type RangeRequest,
  STATE,
  STATE_DONE,
  STATE_PENDING,
  STATUS,
  STATUS_NOT_FOUND,
  STATUS_OK,
  STATUS_OVERFLOW,
  STATUS_RANGE,
  type WorkerInit,
  controlOf,
  dataOf,
  totalOf,
} from './sync-protocol.js';

/** Default wait for one GET, retries by the SDK included; past it the worker is replaced. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** Largest response buffer accepted: bounds the shared memory a reader pins. */
export const MAX_BUFFER_BYTES = 64 * 1024 * 1024;

export interface SyncS3Options {
  endpoint?: string;
  /** Bytes one GET may return (the shared buffer's payload size). */
  bufferBytes: number;
  timeoutMs?: number;
}

export interface RequestStats {
  /** GET requests sent. */
  requests: number;
  /** Bytes received. */
  bytes: number;
}

/** The compiled worker next to this module; from TypeScript sources (vitest) it is not there. */
function workerFile(): URL {
  const url = new URL('./s3-worker.js', import.meta.url);
  if (!fs.existsSync(fileURLToPath(url))) {
    throw new InvalidInputError(`S3 reader worker ${fileURLToPath(url)} not found: S3Repo runs from the built package (npm run build)`);
  }
  return url;
}

interface Channel {
  worker: Worker;
  shared: SharedArrayBuffer;
  control: Int32Array;
  total: Float64Array;
  data: Uint8Array;
}

export class SyncS3 {
  readonly stats: RequestStats = { requests: 0, bytes: 0 };
  readonly bufferBytes: number;
  private readonly timeoutMs: number;
  private channel: Channel | null = null;

  constructor(
    readonly bucket: string,
    private readonly options: SyncS3Options,
  ) {
    if (!Number.isSafeInteger(options.bufferBytes) || options.bufferBytes < 1 || options.bufferBytes > MAX_BUFFER_BYTES) {
      throw new InvalidInputError(`S3 read buffer must be 1..${MAX_BUFFER_BYTES} bytes, got ${options.bufferBytes}`);
    }
    this.bufferBytes = options.bufferBytes;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  private open(): Channel {
    if (this.channel) return this.channel;
    const shared = new SharedArrayBuffer(HEADER_BYTES + this.bufferBytes);
    const init: WorkerInit = { endpoint: this.options.endpoint, shared };
    const worker = new Worker(workerFile(), { workerData: init });
    // Idle between requests, it must not keep the process alive; errors surface as timeouts or statuses.
    worker.unref();
    worker.on('error', () => {});
    this.channel = { worker, shared, control: controlOf(shared), total: totalOf(shared), data: dataOf(shared) };
    return this.channel;
  }

  /**
   * Bytes `[start, end)` of `key`. Throws `NotFoundError` for a missing object, `InvalidDataError`
   * when the answer has a byte count other than asked or the object is not `expectSize` bytes long,
   * `IoError` (errno ETIMEDOUT) on timeout and for other failures.
   */
  read(key: string, start: number, end: number, expectSize?: number): Uint8Array {
    const r = this.get(key, start, end);
    const where = `s3://${this.bucket}/${key}`;
    if (expectSize !== undefined && r.total !== -1 && r.total !== expectSize) {
      throw new InvalidDataError(`archive object ${where}: ${r.total} bytes, the manifest says ${expectSize}`);
    }
    if (r.bytes.length !== end - start) {
      throw new InvalidDataError(`archive object ${where}: got ${r.bytes.length} bytes for range ${start}..${end}, expected ${end - start}`);
    }
    return r.bytes;
  }

  /** A whole object of unknown size, read in buffer-sized ranges; null if missing. At most `maxBytes`. */
  readWhole(key: string, maxBytes: number): Uint8Array | null {
    const where = `s3://${this.bucket}/${key}`;
    const chunks: Uint8Array[] = [];
    let size = -1;
    let got = 0;
    do {
      let r: { bytes: Uint8Array; total: number };
      try {
        r = this.get(key, got, got + this.bufferBytes);
      } catch (e) {
        if (e instanceof NotFoundError && got === 0) return null;
        throw e;
      }
      // A server that ignores Range answers 200 with the whole object: acceptable if it fit the buffer.
      if (r.total === -1 && got === 0 && r.bytes.length < this.bufferBytes) r.total = r.bytes.length;
      if (r.total === -1) throw new InvalidDataError(`archive object ${where}: no Content-Range in a ranged response`);
      if (size === -1) size = r.total;
      if (r.total !== size) throw new InvalidDataError(`archive object ${where} changed size while being read`);
      if (size > maxBytes) throw new InvalidDataError(`archive object ${where} is ${size} bytes, over the limit of ${maxBytes}`);
      if (r.bytes.length === 0 || got + r.bytes.length > size) throw new InvalidDataError(`archive object ${where}: bad range answer at byte ${got}`);
      chunks.push(r.bytes);
      got += r.bytes.length;
    } while (got < size);
    return Buffer.concat(chunks);
  }

  private get(key: string, start: number, end: number): { bytes: Uint8Array; total: number } {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start || end - start > this.bufferBytes) {
      throw new InvalidInputError(`S3 range ${start}..${end} of ${key} is invalid or over ${this.bufferBytes} bytes`);
    }
    const ch = this.open();
    const req: RangeRequest = { bucket: this.bucket, key, start, end };
    Atomics.store(ch.control, STATE, STATE_PENDING);
    ch.worker.postMessage(req);
    this.stats.requests++;
    const waited = Atomics.wait(ch.control, STATE, STATE_PENDING, this.timeoutMs);
    const where = `s3://${this.bucket}/${key}`;
    if (waited === 'timed-out' && Atomics.load(ch.control, STATE) !== STATE_DONE) {
      // The worker may still write into this buffer: it is dropped with its worker, never reused.
      this.close();
      throw new IoError(`archive object ${where}: no answer within ${this.timeoutMs} ms`, { errno: 'ETIMEDOUT' });
    }
    const status = Atomics.load(ch.control, STATUS);
    const length = Atomics.load(ch.control, LENGTH);
    if (length < 0 || length > ch.data.length) throw new InvalidDataError(`archive object ${where}: worker reported ${length} bytes`);
    if (status !== STATUS_OK) {
      const message = new TextDecoder().decode(ch.data.subarray(0, length));
      if (status === STATUS_NOT_FOUND) throw new NotFoundError(`archive object missing: ${where} (${message})`);
      if (status === STATUS_RANGE) throw new InvalidDataError(`archive object ${where}: range ${start}..${end} past its end (${message})`);
      if (status === STATUS_OVERFLOW) throw new InvalidDataError(`archive object ${where}: ${message}`);
      throw new IoError(`archive object ${where}: ${message}`, { errno: 'EREMOTEIO' });
    }
    this.stats.bytes += length;
    return { bytes: ch.data.slice(0, length), total: ch.total[0]! };
  }

  /** Stops the worker; a later read starts a new one. */
  close(): void {
    const ch = this.channel;
    this.channel = null;
    if (ch) void ch.worker.terminate();
  }
}
