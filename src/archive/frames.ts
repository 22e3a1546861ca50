/** Walks complete, CRC-checked commit frames in a byte range of a segment (shared by archive and restore). */
import { decodeCommitHeader, frameLen, frameChecksumMatches, commitHeaderLen } from '../codec/commit.js';

export interface FrameScan {
  /** End of the last complete, valid commit (a commit boundary). */
  end: number;
  commits: number;
  minTx: number;
  maxTx: number;
  /** Tx offset the next commit must start at (-1 when no commit was seen and none expected). */
  nextTx: number;
  /** Why the scan stopped before `bytes.length`, if it did. */
  stop: 'end' | 'zero' | 'short' | 'checksum' | 'gap' | 'bound';
}

/**
 * Scans from `pos`; `expectTx` is the tx offset the first commit must start at (-1: any). With
 * `lastTx`, stops (`bound`) before the first commit starting past it: the cut of a restore `--at`.
 */
export function scanFrames(bytes: Uint8Array, pos: number, logFormatVersion: number, expectTx: number, lastTx?: number): FrameScan {
  const hlen = commitHeaderLen(logFormatVersion);
  const r: FrameScan = { end: pos, commits: 0, minTx: -1, maxTx: -1, nextTx: expectTx, stop: 'end' };
  while (r.end < bytes.length) {
    if (r.end + hlen > bytes.length) { r.stop = 'short'; break; }
    const h = decodeCommitHeader(bytes, r.end, logFormatVersion);
    if (h === null || (h.n === 0 && h.len === 0 && h.minTxOffset === 0 && h.epoch === 0)) { r.stop = 'zero'; break; }
    const len = frameLen(h, logFormatVersion);
    if (r.end + len > bytes.length) { r.stop = 'short'; break; }
    if (!frameChecksumMatches(bytes, r.end, len)) { r.stop = 'checksum'; break; }
    if (r.nextTx !== -1 && h.minTxOffset !== r.nextTx) { r.stop = 'gap'; break; }
    if (lastTx !== undefined && h.minTxOffset > lastTx) { r.stop = 'bound'; break; }
    if (r.minTx === -1) r.minTx = h.minTxOffset;
    r.maxTx = h.minTxOffset + h.n - 1;
    r.nextTx = h.minTxOffset + h.n;
    r.commits++;
    r.end += len;
  }
  return r;
}
