/**
 * The worker thread of `/api/verify`: `verifyLog` is synchronous and reads the whole log, which would
 * stall the server's event loop for as long as that takes. Posts `progress` (throttled) and one `result`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { segmentFileName } from '../index.js';
import { listLogDir, verifyLog } from '../api/ops.js';

/** Progress messages at most this often, ms: enough for a bar, cheap to post. */
const PROGRESS_EVERY_MS = 100;

export interface VerifyProgress {
  type: 'progress';
  segmentsDone: number;
  segments: number;
  segment: number;
  /** Bytes of the log checked so far, of `bytes` (file sizes; compressed segments count by file size). */
  bytesDone: number;
  bytes: number;
}

function fileBytes(dir: string, segment: number): number {
  try {
    return fs.statSync(path.join(dir, segmentFileName(segment))).size;
  } catch {
    return 0;
  }
}

function run(dir: string): void {
  const port = parentPort!;
  // Sizes are taken once, as the run starts: a writer appending meanwhile only makes the last step longer.
  const sizes = new Map(listLogDir(dir).offsets.map((o) => [o, fileBytes(dir, o)] as const));
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  let before = 0; // bytes of the segments finished
  let current: VerifyProgress | null = null;
  let last = 0;
  const post = (force: boolean): void => {
    const now = Date.now();
    if (current === null || (!force && now - last < PROGRESS_EVERY_MS)) return;
    last = now;
    port.postMessage(current);
  };
  let previous: number | null = null;
  const result = verifyLog(dir, {
    onSegment: (done, count, segment) => {
      if (previous !== null) before += sizes.get(previous) ?? 0;
      previous = segment;
      current = { type: 'progress', segmentsDone: done, segments: count, segment, bytesDone: before, bytes: total };
      post(true);
    },
    onCommit: (segment, byteOffset) => {
      if (current === null) return;
      current = { ...current, segment, bytesDone: Math.min(total, before + byteOffset) };
      post(false);
    },
  });
  port.postMessage({ type: 'result', result });
}

try {
  run(String((workerData as { dir: string }).dir));
} catch (e) {
  parentPort!.postMessage({ type: 'error', message: (e as Error).message });
}
