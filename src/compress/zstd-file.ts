/**
 * A read-only `StorageFile` presenting the decompressed bytes of a seekable-zstd segment: positions
 * are in decompressed coordinates, and a read decompresses only the frames it touches (found through
 * the seek table). A stream without a seek table is decompressed once, whole.
 */
import { InvalidDataError } from '../errors.js';
import type { StorageFile } from '../repo/repo.js';
import { type SeekFrame, SEEK_TABLE_FOOTER_LEN, decodeSeekTable, decodeSeekTableFooter } from './seekable.js';
import { FrameDecompressor } from './zstd.js';

function readFully(file: StorageFile, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = file.read(buf, got, length - got, position + got);
    if (n <= 0) throw new InvalidDataError(`compressed segment ends at byte ${position + got}, expected ${position + length}`);
    got += n;
  }
  return buf;
}

/** A compressed segment without a seek table is decompressed whole; it may not exceed this. */
const MAX_UNINDEXED_SEGMENT = 4 * 1024 * 1024 * 1024;

export interface ZstdSegmentFileOptions {
  /**
   * The decompressed size, when the caller knows it (an archive's manifest): the seek table is then
   * read at the first read, not at open, and checked against it. Opening costs no I/O, which matters
   * when reading the raw file is a network request.
   */
  size?: number;
}

export class ZstdSegmentFile implements StorageFile {
  private frames: SeekFrame[] = [];
  private loaded = false;
  private totalSize = 0;
  private readonly decompressor = new FrameDecompressor();
  /** The frame decompressed last: sequential reads touch each frame once. */
  private cachedIndex = -1;
  private cached: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly raw: StorageFile,
    private readonly options: ZstdSegmentFileOptions = {},
  ) {
    if (options.size === undefined) this.load();
    else this.totalSize = options.size;
  }

  /** Reads the seek table; `loaded` only once that succeeded, so a failed load fails every read again. */
  private load(): void {
    const size = this.raw.size();
    const raw = this.raw;
    const footer = size >= SEEK_TABLE_FOOTER_LEN ? decodeSeekTableFooter(readFully(raw, size - SEEK_TABLE_FOOTER_LEN, SEEK_TABLE_FOOTER_LEN), size) : null;
    if (footer) {
      this.frames = decodeSeekTable(readFully(raw, size - footer.tableLen, footer.tableLen), size);
    } else {
      // No seek table: one pseudo-frame holding the whole stream.
      const whole = this.decompressor.decompressAll(readFully(raw, 0, size), MAX_UNINDEXED_SEGMENT);
      this.frames = [{ compressedOffset: 0, compressedSize: size, decompressedOffset: 0, decompressedSize: whole.length }];
      this.cachedIndex = 0;
      this.cached = whole;
    }
    const last = this.frames[this.frames.length - 1];
    const total = last ? last.decompressedOffset + last.decompressedSize : 0;
    if (this.options.size !== undefined && total !== this.options.size) {
      throw new InvalidDataError(`compressed segment decompresses to ${total} bytes, expected ${this.options.size}`);
    }
    this.totalSize = total;
    this.loaded = true;
  }

  /** Number of zstd frames (seek table entries). */
  get frameCount(): number {
    if (!this.loaded) this.load();
    return this.frames.length;
  }

  size(): number {
    return this.totalSize;
  }

  private frameAt(position: number): number {
    let lo = 0;
    let hi = this.frames.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.frames[mid]!.decompressedOffset <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private frame(i: number): Uint8Array {
    if (i !== this.cachedIndex) {
      const f = this.frames[i]!;
      const compressed = readFully(this.raw, f.compressedOffset, f.compressedSize);
      this.cached = this.decompressor.decompress(compressed, f.decompressedSize);
      this.cachedIndex = i;
    }
    return this.cached;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    if (!this.loaded) this.load();
    let done = 0;
    while (done < length && position + done < this.totalSize) {
      const i = this.frameAt(position + done);
      const f = this.frames[i]!;
      const data = this.frame(i);
      const from = position + done - f.decompressedOffset;
      const n = Math.min(length - done, data.length - from);
      buf.set(data.subarray(from, from + n), offset + done);
      done += n;
    }
    return done;
  }

  append(): void {
    throw new InvalidDataError('compressed segments are sealed: cannot append');
  }

  writeAt(): void {
    throw new InvalidDataError('compressed segments are sealed: cannot write');
  }

  truncate(): void {
    throw new InvalidDataError('compressed segments are sealed: cannot truncate');
  }

  sync(): void {}

  close(): void {
    this.raw.close();
  }
}
