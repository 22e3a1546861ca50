/**
 * Telling bit rot from a torn tail (issue 16): after a commit that does not verify, is there a
 * commit further on that does? A torn tail has nothing valid after the bad bytes; bit rot does.
 */
import { FRAMING_LEN, MAX_RECORDS_IN_COMMIT } from '../codec/commit.js';
import type { StorageFile } from '../repo/repo.js';
import { CommitReader } from './commit-reader.js';

export interface IntactAfter {
  /** Byte position and offset of the first intact commit after the damage. */
  position: number;
  offset: number;
  /** Intact commits in sequence from there. */
  count: number;
}

/**
 * Scans byte by byte from `badPosition + 1` for a commit that CRC-verifies and whose offset is
 * above `badOffset`, then counts the commits that follow it in order. Null when none: a torn tail.
 * One chunk buffer; each candidate is checked on its header first, so most positions cost no CRC.
 */
export function findIntactAfter(file: StorageFile, badPosition: number, badOffset: number): IntactAfter | null {
  const size = file.size();
  const reader = new CommitReader(file, badPosition, 1);
  for (let p = badPosition + 1; p + FRAMING_LEN <= size; p++) {
    reader.seek(p);
    const h = reader.peekHeaderV1();
    if (h === null) return null; // zero tail or end of file
    // The next commit's offset is the damaged one's plus its record count (at most 0xffff); its
    // length must fit the file. Checked before any CRC so that garbage costs little.
    if (h.n === 0 || h.minTxOffset <= badOffset || h.minTxOffset > badOffset + MAX_RECORDS_IN_COMMIT) continue;
    if (h.len > size - p - FRAMING_LEN) continue;
    let c;
    try {
      c = reader.commitAtV1(p);
    } catch {
      continue; // not a commit here (bad CRC, or a length the file does not hold)
    }
    if (c === null) return null; // zero tail or end of file
    let count = 1;
    let expected = c.minTxOffset + c.n;
    reader.seek(p + FRAMING_LEN + c.records.length);
    for (;;) {
      let next;
      try {
        next = reader.next();
      } catch {
        break;
      }
      if (next === null || next.minTxOffset !== expected) break;
      count++;
      expected = next.minTxOffset + next.n;
    }
    return { position: p, offset: c.minTxOffset, count };
  }
  return null;
}
