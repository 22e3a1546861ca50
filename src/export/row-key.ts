/**
 * The key deletes find a row by: 53 bits of two CRC-32Cs of its BSATN bytes (two seeds), an INTEGER
 * that keeps the SQLite index small and cheap to update (an index over the whole BSATN blob made the
 * export 3× slower). Equal keys of different rows are told apart by comparing the bytes themselves.
 */
import { crc32c } from '@node-rs/crc32';

const SEED = 0x5bd1e995;

export function rowKey(bsatn: Uint8Array): number {
  const a = crc32c(bsatn) >>> 0;
  const b = crc32c(bsatn, SEED) >>> 0;
  return a * 2 ** 21 + (b >>> 11);
}
