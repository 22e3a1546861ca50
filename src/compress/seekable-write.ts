/**
 * The one writer of the seekable zstd layout (SPEC §9.4): the source's bytes cut into independent
 * frames of `SEEKABLE_FRAME_LEN` decompressed bytes, then the seek table. `clog compress` (through
 * `writeCompressed`) and the archive's zstd objects both come from here, so they are the same bytes.
 */
import type { StorageFile } from '../repo/repo.js';
import { SEEKABLE_FRAME_LEN, encodeSeekTable } from './seekable.js';
import { FrameCompressor } from './zstd.js';

/** Bytes read from the source per batch. */
const READ_CHUNK = 1024 * 1024;

/** Compresses everything `source` holds, handing each frame and finally the seek table to `emit`. */
export function writeSeekable(source: Pick<StorageFile, 'size' | 'read'>, emit: (bytes: Uint8Array) => void): void {
  const compressor = new FrameCompressor();
  const frames: { compressedSize: number; decompressedSize: number }[] = [];
  const buf = new Uint8Array(READ_CHUNK);
  const size = source.size();
  for (let pos = 0; pos < size; ) {
    const got = source.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (got <= 0) break;
    for (let at = 0; at < got; at += SEEKABLE_FRAME_LEN) {
      const chunk = buf.subarray(at, Math.min(at + SEEKABLE_FRAME_LEN, got));
      const frame = compressor.compress(chunk);
      emit(frame);
      frames.push({ compressedSize: frame.length, decompressedSize: chunk.length });
    }
    pos += got;
  }
  emit(encodeSeekTable(frames));
}

/** The seekable zstd file of `bytes`, in memory. */
export function compressSeekable(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  const source = {
    size: () => bytes.length,
    read: (buf: Uint8Array, offset: number, length: number, position: number): number => {
      const n = Math.max(0, Math.min(length, bytes.length - position));
      buf.set(bytes.subarray(position, position + n), offset);
      return n;
    },
  };
  writeSeekable(source, (b) => {
    // A compressor may reuse its output buffer: keep a copy.
    parts.push(Uint8Array.from(b));
    total += b.length;
  });
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
