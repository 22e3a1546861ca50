/**
 * The zstd seekable format (SPEC §9.4, zstd `contrib/seekable_format`): independent zstd frames of at
 * most 4096 decompressed bytes, then a skippable frame holding the seek table. Pure: no I/O.
 */
import { readU32, writeU32 } from '../codec/u64.js';
import { InvalidDataError } from '../errors.js';

/** Decompressed bytes per frame, as the reference writes them. */
export const SEEKABLE_FRAME_LEN = 4096;
export const ZSTD_FRAME_MAGIC = 0xfd2fb528;
export const SKIPPABLE_MAGIC = 0x184d2a5e;
export const SEEKABLE_MAGIC = 0x8f92eab1;
/** `numFrames u32 | descriptor u8 | seekable magic u32` at the very end. */
export const SEEK_TABLE_FOOTER_LEN = 9;
const CHECKSUM_FLAG = 0x80;
const RESERVED_BITS = 0x7c;
/** A sane upper bound on frames read from a footer before anything is allocated: 2^32 bytes / 4096. */
const MAX_FRAMES = 0x10_0000;
/** Largest decompressed frame accepted from a seek table (the reference writes 4096-byte frames). */
export const MAX_FRAME_DECOMPRESSED = 64 * 1024 * 1024;

export interface SeekFrame {
  compressedOffset: number;
  compressedSize: number;
  decompressedOffset: number;
  decompressedSize: number;
}

export function isZstdMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && readU32(bytes, 0) === ZSTD_FRAME_MAGIC;
}

/** Encodes the seek table frame for frames of the given sizes (no checksums). */
export function encodeSeekTable(frames: readonly { compressedSize: number; decompressedSize: number }[]): Uint8Array {
  const k = frames.length;
  const out = new Uint8Array(8 + 8 * k + SEEK_TABLE_FOOTER_LEN);
  writeU32(out, 0, SKIPPABLE_MAGIC);
  writeU32(out, 4, 8 * k + SEEK_TABLE_FOOTER_LEN);
  for (let i = 0; i < k; i++) {
    writeU32(out, 8 + 8 * i, frames[i]!.compressedSize);
    writeU32(out, 12 + 8 * i, frames[i]!.decompressedSize);
  }
  const f = 8 + 8 * k;
  writeU32(out, f, k);
  out[f + 4] = 0;
  writeU32(out, f + 5, SEEKABLE_MAGIC);
  return out;
}

/**
 * Reads the footer (last 9 bytes of the file): null when there is no seek table (still a valid zstd
 * stream), otherwise the number of frames, entry size and the table frame's total length.
 */
export function decodeSeekTableFooter(
  footer: Uint8Array,
  fileSize: number,
): { frames: number; entryLen: number; tableLen: number } | null {
  if (footer.length < SEEK_TABLE_FOOTER_LEN || readU32(footer, 5) !== SEEKABLE_MAGIC) return null;
  const frames = readU32(footer, 0);
  const descriptor = footer[4]!;
  if (descriptor & RESERVED_BITS) throw new InvalidDataError('zstd seek table: reserved descriptor bits set');
  if (frames > MAX_FRAMES) throw new InvalidDataError(`zstd seek table claims ${frames} frames`);
  const entryLen = descriptor & CHECKSUM_FLAG ? 12 : 8;
  const tableLen = 8 + entryLen * frames + SEEK_TABLE_FOOTER_LEN;
  if (tableLen > fileSize) throw new InvalidDataError('zstd seek table is larger than the file');
  return { frames, entryLen, tableLen };
}

/** Decodes the whole seek table frame (`tableLen` bytes at the end of a file of `fileSize` bytes). */
export function decodeSeekTable(table: Uint8Array, fileSize: number): SeekFrame[] {
  const footer = decodeSeekTableFooter(table.subarray(table.length - SEEK_TABLE_FOOTER_LEN), fileSize);
  if (footer === null || table.length !== footer.tableLen) throw new InvalidDataError('zstd seek table: bad footer');
  if (readU32(table, 0) !== SKIPPABLE_MAGIC) throw new InvalidDataError('zstd seek table: bad skippable frame magic');
  if (readU32(table, 4) !== footer.entryLen * footer.frames + SEEK_TABLE_FOOTER_LEN) {
    throw new InvalidDataError('zstd seek table: frame size does not match the number of frames');
  }
  const frames: SeekFrame[] = [];
  let c = 0;
  let d = 0;
  for (let i = 0; i < footer.frames; i++) {
    const at = 8 + i * footer.entryLen;
    const compressedSize = readU32(table, at);
    const decompressedSize = readU32(table, at + 4);
    if (decompressedSize > MAX_FRAME_DECOMPRESSED) {
      throw new InvalidDataError(`zstd seek table: frame ${i} claims ${decompressedSize} decompressed bytes`);
    }
    frames.push({ compressedOffset: c, compressedSize, decompressedOffset: d, decompressedSize });
    c += compressedSize;
    d += decompressedSize;
  }
  if (c !== fileSize - footer.tableLen) {
    throw new InvalidDataError(`zstd seek table: frames cover ${c} bytes, the file holds ${fileSize - footer.tableLen}`);
  }
  return frames;
}
