/** Logs for the browser tests, written with the library's public writer. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Commitlog } from '../../src/index.js';

/** Small segments, so that a few thousand commits span several of them. */
export const SMALL_SEGMENT = 16 * 1024;

/** A new temp directory holding a log of `commits` commits of one record each (offsets 0..commits-1). */
export function makeLog(commits: number, prefix = 'clog-ui-live-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const log = Commitlog.open(dir, { maxSegmentSize: SMALL_SEGMENT });
  for (let i = 0; i < commits; i++) {
    log.append(new TextEncoder().encode(`record ${i}`));
    log.flush();
  }
  log.close();
  return dir;
}
