/** CRC-32C (Castagnoli) through the native `@node-rs/crc32` binding: one call per commit. */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

export function crc32c(bytes: Uint8Array): number {
  return nativeCrc32c(bytes) >>> 0;
}
