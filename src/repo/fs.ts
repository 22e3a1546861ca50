/** The file-system repository (Rust `repo::Fs`): one directory of segments and offset index files. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AlreadyExistsError, InvalidDataError, InvalidInputError, fromSystemError } from '../errors.js';
import { ZstdSegmentFile } from '../compress/zstd-file.js';
import { isZstdMagic } from '../compress/seekable.js';
import { writeCompressed, writeUncompressed } from './fs-atomic.js';
import { FsFile } from './fs-file.js';
import { PreallocatingFile } from './fs-prealloc.js';
import { type DirLock, acquireDirLock } from './lock.js';
import {
  type CompressionStats,
  type OnNewSegment,
  type Repo,
  type SizeOnDisk,
  type StorageFile,
  indexFileName,
  parseSegmentFileName,
  segmentFileName,
} from './repo.js';

const INDEX_ENTRY_LEN = 16;
/** Read+append without O_CREAT: opening a missing segment must fail with NotFound, not create it. */
const APPEND_EXISTING = fs.constants.O_RDWR | fs.constants.O_APPEND;

export interface FsRepoOptions {
  /**
   * Keep this many bytes zero-filled ahead of the end of the segment being written (0, the default:
   * off). Durable commits then overwrite allocated blocks and their fsync has no size change to
   * journal; see `PreallocatingFile`. A crash can leave the zero tail behind: readers treat it as the
   * end of the segment and opening the log cuts it.
   */
  preallocateBytes?: number;
  /** See `Repo.onNewSegment`. */
  onNewSegment?: OnNewSegment;
}

/** Largest `preallocateBytes`: a zero-fill is written synchronously, in 256 KiB calls. */
export const MAX_PREALLOCATE_BYTES = 256 * 1024 * 1024;

export class FsRepo implements Repo {
  readonly root: string;
  readonly preallocateBytes: number;
  readonly onNewSegment?: OnNewSegment;

  /** Creates `root` recursively, also for read-only use (QUIRK Q35). */
  constructor(root: string, options: FsRepoOptions = {}) {
    const prealloc = options.preallocateBytes ?? 0;
    if (!Number.isInteger(prealloc) || prealloc < 0 || prealloc > MAX_PREALLOCATE_BYTES) {
      throw new InvalidInputError(`preallocateBytes must be an integer in 0..${MAX_PREALLOCATE_BYTES}, got ${String(prealloc)}`);
    }
    this.preallocateBytes = prealloc;
    if (options.onNewSegment) this.onNewSegment = options.onNewSegment;
    this.root = path.resolve(root);
    try {
      fs.mkdirSync(this.root, { recursive: true });
    } catch (e) {
      throw fromSystemError(e, `create directory ${this.root}`);
    }
  }

  segmentPath(offset: number): string {
    return path.join(this.root, segmentFileName(offset));
  }

  indexPath(offset: number): string {
    return path.join(this.root, indexFileName(offset));
  }

  existingOffsets(): number[] {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(this.root, { withFileTypes: true });
    } catch (e) {
      throw fromSystemError(e, `list ${this.root}`);
    }
    const offsets: number[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue; // symlinks are not followed (QUIRK Q36)
      const parsed = parseSegmentFileName(entry.name);
      if (parsed === null) continue;
      if (parsed === 'unsafe') {
        throw new InvalidDataError(
          `segment ${entry.name} in ${this.root} starts beyond Number.MAX_SAFE_INTEGER; not supported`,
        );
      }
      offsets.push(parsed);
    }
    return offsets.sort((a, b) => a - b);
  }

  createSegment(offset: number): StorageFile {
    const p = this.segmentPath(offset);
    try {
      return this.openWriter(p, 'create');
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
    // An existing empty file (a crash right after creation) is reused; one with data is not.
    const file = this.openWriter(p, 'existing');
    if (file.size() > 0) {
      file.close();
      throw new AlreadyExistsError(`segment ${offset} already exists and is not empty: ${p}`);
    }
    return file;
  }

  openSegmentWriter(offset: number): StorageFile {
    return this.openWriter(this.segmentPath(offset), 'existing');
  }

  /**
   * A segment handle for writing: O_APPEND like the reference, or positional (never O_APPEND) when
   * preallocating. `create` fails with AlreadyExists if the file is there; `existing` never creates it.
   */
  private openWriter(p: string, how: 'create' | 'existing'): FsFile {
    if (this.preallocateBytes === 0) return FsFile.open(p, how === 'create' ? 'ax+' : APPEND_EXISTING);
    return PreallocatingFile.openPreallocating(p, how === 'create' ? 'wx+' : fs.constants.O_RDWR, this.preallocateBytes);
  }

  /** Compressed segments (zstd magic) are presented decompressed. */
  openSegmentReader(offset: number): StorageFile {
    const file = FsFile.open(this.segmentPath(offset), 'r');
    try {
      const magic = new Uint8Array(4);
      if (file.read(magic, 0, 4, 0) === 4 && isZstdMagic(magic)) return new ZstdSegmentFile(file);
      return file;
    } catch (e) {
      file.close();
      throw e;
    }
  }

  isCompressed(offset: number): boolean {
    const file = this.openSegmentReader(offset);
    const compressed = file instanceof ZstdSegmentFile;
    file.close();
    return compressed;
  }

  /** Removes the segment and makes the removal durable (FIX: 1.3.0 never syncs the directory). */
  removeSegment(offset: number): void {
    this.removeOffsetIndex(offset);
    try {
      fs.unlinkSync(this.segmentPath(offset));
    } catch (e) {
      throw fromSystemError(e, `remove segment ${offset}`);
    }
    this.syncDirectory();
  }

  syncDirectory(): void {
    let fd: number | null = null;
    try {
      fd = fs.openSync(this.root, 'r');
      fs.fsyncSync(fd);
    } catch (e) {
      throw fromSystemError(e, `fsync directory ${this.root}`);
    } finally {
      if (fd !== null) fs.closeSync(fd);
    }
  }

  /** Rewrites a sealed segment as seekable zstd, atomically; a no-op if it is compressed already. */
  compressSegment(offset: number): CompressionStats {
    const source = this.openSegmentReader(offset);
    try {
      if (source instanceof ZstdSegmentFile) return { bytesRead: 0, bytesWritten: 0 };
      const bytesRead = source.size();
      writeCompressed(source, this.segmentPath(offset));
      return { bytesRead, bytesWritten: this.statOf(this.segmentPath(offset), `segment ${offset}`).size };
    } finally {
      source.close();
    }
  }

  /** Rewrites a compressed segment uncompressed, atomically; a no-op for a plain one. */
  uncompressSegment(offset: number): void {
    const source = this.openSegmentReader(offset);
    try {
      if (source instanceof ZstdSegmentFile) writeUncompressed(source, this.segmentPath(offset));
    } finally {
      source.close();
    }
  }

  createOffsetIndex(offset: number, capacity: number): StorageFile {
    const p = this.indexPath(offset);
    let file: FsFile;
    try {
      file = FsFile.open(p, 'wx+');
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      file = FsFile.open(p, 'r+');
    }
    try {
      // Existing files are resized to the current capacity (QUIRK Q17).
      if (file.size() !== capacity * INDEX_ENTRY_LEN) file.truncate(capacity * INDEX_ENTRY_LEN);
    } catch (e) {
      file.close();
      throw e;
    }
    return file;
  }

  getOffsetIndex(offset: number, writable = false): StorageFile {
    return FsFile.open(this.indexPath(offset), writable ? 'r+' : 'r');
  }

  removeOffsetIndex(offset: number): void {
    try {
      fs.unlinkSync(this.indexPath(offset));
    } catch {
      // A missing or undeletable index is harmless: readers fall back to scanning.
    }
  }

  sizeOnDisk(): number {
    return this.sizeOnDiskDetailed().totalBytes;
  }

  sizeOnDiskDetailed(): SizeOnDisk {
    let totalBytes = 0;
    let totalBlocks = 0;
    for (const offset of this.existingOffsets()) {
      const seg = this.statOf(this.segmentPath(offset), `segment ${offset}`);
      totalBytes += seg.size;
      totalBlocks += seg.blocks;
      let index: fs.Stats | undefined;
      try {
        index = fs.statSync(this.indexPath(offset));
      } catch {
        // no index file
      }
      if (index) {
        totalBytes += index.size;
        totalBlocks += index.blocks;
      }
    }
    return { totalBytes, totalBlocks };
  }

  private statOf(p: string, what: string): fs.Stats {
    try {
      return fs.statSync(p);
    } catch (e) {
      throw fromSystemError(e, `stat ${what}`);
    }
  }

  lock(): DirLock {
    return acquireDirLock(this.root);
  }

  toString(): string {
    return this.root;
  }
}
