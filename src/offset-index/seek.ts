/** Seeking a segment reader to a tx offset with the offset index (SPEC §3.7). */
import { InvalidDataError } from '../errors.js';
import type { CommitReader } from '../segment/commit-reader.js';
import type { IndexFile } from './index-file.js';

/**
 * Positions `reader` at the indexed commit with the greatest key ≤ `startTx`, after checking that a
 * complete commit with that offset really starts there (entries may point past EOF or at overwritten
 * bytes). Returns the position; throws on any failure, leaving the reader where it was.
 */
export function seekToOffset(reader: CommitReader, index: IndexFile, startTx: number): number {
  const [key, pos] = index.keyLookup(startTx);
  if (key === 0) throw new InvalidDataError('offset index lookup returned key 0');
  // The whole commit is decoded, CRC included (upstream #5493; 1.3.0 checked the header only).
  const commit = reader.commitAtV1(pos);
  if (commit === null || commit.minTxOffset !== key) {
    throw new InvalidDataError(`mismatched key in offset index file: key=${key} position=${pos}`);
  }
  reader.seek(pos);
  return pos;
}
