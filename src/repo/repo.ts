/**
 * The storage interface (Rust `Repo`, SPEC §2.7). The log never touches `fs` directly: everything goes
 * through a `Repo`, so tests can run against memory and inject faults.
 */

/** A handle on one file of the log: a segment or an offset index. All calls are synchronous. */
export interface StorageFile {
  /** Current length in bytes. */
  size(): number;
  /** Reads up to `length` bytes at `position` into `buf[offset..]`; returns the count (0 at EOF). */
  read(buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes all of `buf[offset..offset+length)` at the end of the file; throws on a short write. */
  append(buf: Uint8Array, offset: number, length: number): void;
  /** Writes all of `buf[offset..offset+length)` at `position` (index files). */
  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void;
  /** Sets the length, cutting or zero-extending. */
  truncate(length: number): void;
  /** fdatasync. */
  sync(): void;
  /**
   * fdatasync off the event loop (libuv thread pool), where supported. A `close` while it runs is
   * deferred until it completes, so the descriptor is never closed (or reused) under it.
   */
  syncAsync?(): Promise<void>;
  /**
   * The segment is full and about to be left for a new one, after one last sync: give back space held
   * ahead of the data (`FsRepoOptions.preallocateBytes`) so that sync covers the cut.
   */
  seal?(): void;
  close(): void;
}

/** What compressing segments did (upstream 2.8's `CompressionStats`). */
export interface CompressionStats {
  /** Uncompressed bytes read from the segments compressed. */
  bytesRead: number;
  /** Compressed bytes written (seek tables included). */
  bytesWritten: number;
}

/** Size of a log on disk (upstream 2.8's `SizeOnDisk`): segments and offset index files. */
export interface SizeOnDisk {
  /** Sum of the files' apparent sizes. */
  totalBytes: number;
  /**
   * 512-byte blocks allocated to them (`st_blocks`): smaller than `totalBytes / 512` for sparse index
   * files, larger for preallocated tails. Repos without files count 8 per started 4 KiB page.
   */
  totalBlocks: number;
}

/** Called after a segment file was created (upstream #3405: a snapshot at every new segment). */
export type OnNewSegment = (offset: number) => void;

export interface Repo {
  /** First tx offsets of all segments, ascending (duplicates kept, SPEC §2.1). */
  existingOffsets(): number[];
  /** Creates segment `offset`; reuses an existing empty file, `AlreadyExistsError` if it has bytes. */
  createSegment(offset: number): StorageFile;
  /** Opens an existing segment for appending; `NotFoundError` if missing. */
  openSegmentWriter(offset: number): StorageFile;
  /** Opens an existing segment for reading (decompressed view for compressed segments). */
  openSegmentReader(offset: number): StorageFile;
  /** Removes the segment's offset index (errors ignored), then the segment. */
  removeSegment(offset: number): void;
  /**
   * Compresses a sealed segment; a no-op where unsupported. Returns the bytes read and written
   * (both 0 when nothing was done: already compressed, or unsupported).
   */
  compressSegment(offset: number): CompressionStats;
  /** Rewrites a compressed segment uncompressed (so it can be truncated); a no-op for a plain one. */
  uncompressSegment(offset: number): void;
  /** Whether the segment is stored compressed. */
  isCompressed(offset: number): boolean;
  /** Creates or opens-and-resizes the index file of `offset` to `capacity` entries. Throws if unsupported. */
  createOffsetIndex(offset: number, capacity: number): StorageFile;
  /**
   * Opens an existing index file without resizing it; throws (`NotFoundError`) if missing or
   * unsupported. `writable` for the callers that truncate it (`resetTo`, `StreamWriter` trim).
   */
  getOffsetIndex(offset: number, writable?: boolean): StorageFile;
  removeOffsetIndex(offset: number): void;
  /**
   * fsyncs the directory holding the segments, so that files created or removed in it stay so after a
   * power loss. Repos without directories (memory) leave this out.
   */
  syncDirectory?(): void;
  /** Bytes used by segments and their index files (apparent sizes). */
  sizeOnDisk(): number;
  /** Apparent bytes and allocated 512-byte blocks; repos without files leave this out. */
  sizeOnDiskDetailed?(): SizeOnDisk;
  /**
   * Takes the single-writer lock of the log (SPEC §11A); throws `LockedError` if another writer holds
   * it. Repos without one (memory) leave this out.
   */
  lock?(): { release(): void };
  /**
   * Called after a new segment's header is written and synced (the log's first segment too). An error
   * it throws is logged (`NODE_DEBUG=commitlog`) and otherwise ignored: the segment exists either way.
   */
  readonly onNewSegment?: OnNewSegment;
}

/** `{offset:020}` — the 20-digit, zero-padded decimal used in file names. */
export function offsetFileStem(offset: number): string {
  return String(offset).padStart(20, '0');
}

export const SEGMENT_FILE_EXT = '.stdb.log';
export const INDEX_FILE_EXT = '.stdb.ofs';

export function segmentFileName(offset: number): string {
  return offsetFileStem(offset) + SEGMENT_FILE_EXT;
}

export function indexFileName(offset: number): string {
  return offsetFileStem(offset) + INDEX_FILE_EXT;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Parses a directory entry name as a segment offset the way 1.3.0 lists segments (QUIRK Q36:
 * `5`, `+5` and the 20-digit form all parse). Returns null for names that are not segments.
 * A valid u64 beyond Number.MAX_SAFE_INTEGER cannot be represented and is reported as such.
 */
export function parseSegmentFileName(name: string): number | null | 'unsafe' {
  if (!name.endsWith(SEGMENT_FILE_EXT)) return null;
  const stem = name.slice(0, -SEGMENT_FILE_EXT.length);
  if (!/^\+?[0-9]+$/.test(stem)) return null;
  const big = BigInt(stem.startsWith('+') ? stem.slice(1) : stem);
  if (big > U64_MAX) return null;
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) return 'unsafe';
  return Number(big);
}
