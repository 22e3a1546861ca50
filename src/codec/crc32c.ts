/** CRC-32C (Castagnoli) through the native `@node-rs/crc32` binding: one call per commit. */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** `initial`: the CRC of the bytes before these, to checksum a stream piece by piece. */
export function crc32c(bytes: Uint8Array, initial?: number): number {
  return (initial === undefined ? nativeCrc32c(bytes) : nativeCrc32c(bytes, initial)) >>> 0;
}
