/**
 * The zstd objects of the archive: a sealed segment as one seekable zstd file (the bytes `clog compress`
 * writes), and back. In memory: a sealed segment is at most `maxSegmentSize` (1 GiB by default).
 */
import { compressSeekable } from '../compress/seekable-write.js';
import { ZstdSegmentFile } from '../compress/zstd-file.js';
import { InvalidDataError } from '../errors.js';
import { MemoryBuffer, MemoryFile } from '../repo/memory.js';

export function zstdKey(offset: number): string {
  return `segments/${String(offset).padStart(20, '0')}/zstd`;
}

/** The decompressed bytes of a seekable zstd file; `what` names it in errors. */
export function decompressSeekable(raw: Uint8Array, what: string): Uint8Array {
  const buffer = new MemoryBuffer();
  buffer.data = raw as Uint8Array<ArrayBuffer>;
  buffer.length = raw.length;
  let file: ZstdSegmentFile;
  try {
    file = new ZstdSegmentFile(new MemoryFile(buffer, false));
  } catch (e) {
    throw new InvalidDataError(`${what}: not a seekable zstd file: ${(e as Error).message}`, { cause: e });
  }
  try {
    const out = new Uint8Array(file.size());
    const n = file.read(out, 0, out.length, 0);
    if (n !== out.length) throw new InvalidDataError(`${what}: decompressed ${n} of ${out.length} bytes`);
    return out;
  } catch (e) {
    if (e instanceof InvalidDataError && e.message.startsWith(what)) throw e;
    throw new InvalidDataError(`${what}: ${(e as Error).message}`, { cause: e });
  } finally {
    file.close();
  }
}

/** Compresses `plain` and checks that it decompresses to exactly `plain` before it is uploaded. */
export function compressChecked(plain: Uint8Array, what: string): Uint8Array {
  const z = compressSeekable(plain);
  const back = decompressSeekable(z, what);
  if (back.length !== plain.length || !Buffer.from(back.buffer, back.byteOffset, back.length).equals(plain)) {
    throw new InvalidDataError(`${what}: compressed bytes do not decompress to the segment`);
  }
  return z;
}
