/**
 * The key deletes find a row by: the CRC-32C of its BSATN bytes and their length, an INTEGER that
 * keeps the SQLite index small and cheap to update (an index over the whole BSATN blob made the
 * export 3× slower). Rows with equal keys are told apart by comparing the bytes themselves, so a
 * collision costs a comparison, never a wrong delete.
 */
import { crc32c } from '@node-rs/crc32';

/** Lengths at or above this share key space (rows are that long only in odd logs; still correct). */
const LENGTH_MOD = 2 ** 21;

export function rowKey(bsatn: Uint8Array): number {
  return (bsatn.length % LENGTH_MOD) * 2 ** 32 + (crc32c(bsatn) >>> 0);
}
