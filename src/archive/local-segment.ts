/**
 * One segment of the log directory being archived, opened once for the whole run: every read of it
 * (the plain view, and the raw file when it is compressed) goes to the same open file, so a
 * `clog compress` renaming a new file over it meanwhile cannot mix two files. Read-only: nothing is
 * ever written into the directory, and a live writer appending to the head only adds bytes past what
 * this run looks at (the scan cuts at the last complete commit).
 */
import { isZstdMagic } from '../compress/seekable.js';
import { ZstdSegmentFile } from '../compress/zstd-file.js';
import { InvalidDataError, NotFoundError } from '../errors.js';
import { FsFile } from '../repo/fs-file.js';
import type { FsRepo } from '../repo/fs.js';
import type { StorageFile } from '../repo/repo.js';

export class LocalSegment {
  private constructor(
    readonly offset: number,
    private readonly raw: FsFile,
    /** Decompressed bytes for a compressed segment, the file itself for a plain one. */
    private readonly plain: StorageFile,
    readonly compressed: boolean,
  ) {}

  /** Opens the segment, or returns null when it vanished since the listing (pruned meanwhile). */
  static open(repo: FsRepo, offset: number): LocalSegment | null {
    let raw: FsFile;
    try {
      raw = FsFile.open(repo.segmentPath(offset), 'r');
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
    try {
      const magic = new Uint8Array(4);
      const compressed = raw.read(magic, 0, 4, 0) === 4 && isZstdMagic(magic);
      return new LocalSegment(offset, raw, compressed ? new ZstdSegmentFile(raw) : raw, compressed);
    } catch (e) {
      raw.close();
      throw e;
    }
  }

  /** Size of the (decompressed) segment now. */
  size(): number {
    return this.plain.size();
  }

  /** Decompressed bytes `[from, to)`. */
  readPlain(from: number, to: number): Uint8Array {
    return readExactly(this.plain, from, to, `segment ${this.offset}`);
  }

  /** The file's bytes as stored (the seekable zstd file of a compressed segment). */
  rawBytes(): Uint8Array {
    return readExactly(this.raw, 0, this.raw.size(), `segment ${this.offset} file`);
  }

  close(): void {
    this.plain.close();
  }
}

function readExactly(file: StorageFile, from: number, to: number, what: string): Uint8Array {
  const buf = new Uint8Array(Math.max(0, to - from));
  let got = 0;
  while (got < buf.length) {
    const n = file.read(buf, got, buf.length - got, from + got);
    if (n <= 0) throw new InvalidDataError(`${what}: ends at byte ${from + got}, expected ${to}`);
    got += n;
  }
  return buf;
}
