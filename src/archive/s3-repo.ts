/**
 * `S3Repo`: a read-only `Repo` over an archive (issue 14, reading in place). The manifest is fetched
 * and validated once, at open: the repository is a snapshot of the archive at that moment. Segments
 * are read with ranged GETs through a small block cache: plain segments across their parts, compressed
 * ones (`zstd` objects) through their seek table by the same `ZstdSegmentFile` a directory uses.
 *
 * The archive holds no offset index files: `getOffsetIndex` serves one built from the manifest (each
 * part starts at a commit whose first tx offset the manifest records), so a read from an offset starts
 * at the right part instead of the segment's first byte.
 */
import { ZstdSegmentFile } from '../compress/zstd-file.js';
import { writeU64 } from '../codec/u64.js';
import { NotFoundError, ReadOnlyError } from '../errors.js';
import { INDEX_ENTRY_LEN } from '../offset-index/index-file.js';
import { MemoryBuffer, MemoryFile } from '../repo/memory.js';
import type { CompressionStats, Repo, StorageFile } from '../repo/repo.js';
import { MANIFEST_NAME } from './archive.js';
import { ArchivedFile, type ArchivedPiece } from './archived-file.js';
import { BlockCache } from './block-cache.js';
import { MAX_MANIFEST_BYTES, type Manifest, type ManifestSegment, decodeManifest } from './manifest.js';
import { type S3Target, objectKey, parseS3Url } from './s3-client.js';
import { type RequestStats, SyncS3 } from './sync-s3.js';

/** 1 MiB: large enough that a sequential read costs few requests, small enough to waste little on a seek. */
export const DEFAULT_BLOCK_BYTES = 1024 * 1024;
/** 16 blocks (16 MiB at the default size): a reader switching between a few segments keeps its place. */
export const DEFAULT_CACHE_BLOCKS = 16;
/**
 * Compressed segments kept open after a read: a reader reopening one does not parse its seek table
 * again (a 1 GiB segment has 262,144 frames). Few, since each holds its table in memory.
 */
const OPEN_ZSTD_SEGMENTS = 4;

export interface S3RepoOptions {
  /** S3 endpoint (default AWS_ENDPOINT_URL, else AWS). */
  endpoint?: string;
  blockBytes?: number;
  cacheBlocks?: number;
  /** Wait for one GET (SDK retries included) before failing with ETIMEDOUT. */
  timeoutMs?: number;
}

export class S3Repo implements Repo {
  readonly manifest: Manifest;
  private readonly s3: SyncS3;
  private readonly cache: BlockCache;
  private readonly segments = new Map<number, ManifestSegment>();
  private readonly zstdFiles = new Map<number, ZstdSegmentFile>();

  private constructor(
    readonly target: S3Target,
    options: S3RepoOptions,
  ) {
    const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
    this.s3 = new SyncS3(target.bucket, { endpoint: options.endpoint, bufferBytes: blockBytes, timeoutMs: options.timeoutMs });
    this.cache = new BlockCache(this.s3, blockBytes, Math.max(1, options.cacheBlocks ?? DEFAULT_CACHE_BLOCKS));
    try {
      const bytes = this.s3.readWhole(objectKey(target, MANIFEST_NAME), MAX_MANIFEST_BYTES);
      if (bytes === null) throw new NotFoundError(`no archive manifest at ${this.toString()} (${MANIFEST_NAME} missing)`);
      this.manifest = decodeManifest(bytes);
    } catch (e) {
      this.s3.close();
      throw e;
    }
    for (const s of this.manifest.segments) {
      // decodeManifest only accepts safe integers; a duplicate offset keeps its first segment, as listed.
      if (!this.segments.has(s.offset)) this.segments.set(s.offset, s);
    }
  }

  /** Opens the archive at `target` (an `s3://BUCKET/PREFIX` URL or a parsed target), reading its manifest. */
  static open(target: string | S3Target, options: S3RepoOptions = {}): S3Repo {
    return new S3Repo(typeof target === 'string' ? parseS3Url(target) : target, options);
  }

  /** GET requests sent and bytes received since open (the manifest included). */
  get stats(): Readonly<RequestStats> {
    return { ...this.s3.stats };
  }

  get blockBytes(): number {
    return this.cache.blockBytes;
  }

  existingOffsets(): number[] {
    return this.manifest.segments.map((s) => s.offset);
  }

  private segment(offset: number): ManifestSegment {
    const s = this.segments.get(offset);
    if (!s) throw new NotFoundError(`segment ${offset} is not in the archive ${this.toString()}`);
    return s;
  }

  openSegmentReader(offset: number): StorageFile {
    const s = this.segment(offset);
    const what = `archived segment ${offset} (${this.toString()})`;
    if (!s.zstd) {
      const pieces: ArchivedPiece[] = s.parts.map((p) => ({ key: objectKey(this.target, p.key), start: p.start, size: p.end - p.start, crc32c: p.crc32c }));
      return new ArchivedFile(this.cache, pieces, what);
    }
    // Shared by every reader of the segment: reads are synchronous and `close` of the raw file is a no-op.
    let file = this.zstdFiles.get(offset);
    if (file) {
      this.zstdFiles.delete(offset);
    } else {
      const z = s.zstd;
      const raw = new ArchivedFile(this.cache, [{ key: objectKey(this.target, z.key), start: 0, size: z.bytes, crc32c: z.crc32c }], what);
      // The size from the manifest: opening costs no GET (export's progress opens every segment per
      // batch); the seek table is read, and checked against it, at the first read.
      file = new ZstdSegmentFile(raw, { size: s.size });
    }
    this.zstdFiles.set(offset, file);
    while (this.zstdFiles.size > OPEN_ZSTD_SEGMENTS) this.zstdFiles.delete(this.zstdFiles.keys().next().value!);
    return file;
  }

  isCompressed(offset: number): boolean {
    return this.segment(offset).zstd !== undefined;
  }

  /** Bytes the segment takes in the archive: its parts, or its zstd object. */
  storedSize(offset: number): number {
    const s = this.segment(offset);
    return s.zstd ? s.zstd.bytes : s.size;
  }

  sizeOnDisk(): number {
    return this.manifest.segments.reduce((sum, s) => sum + (s.zstd ? s.zstd.bytes : s.size), 0);
  }

  /**
   * An offset index built from the manifest: one entry per part that starts with a commit (tx offset
   * of that commit → the part's first byte). NotFound for a compressed segment or a single part.
   */
  getOffsetIndex(offset: number, writable = false): StorageFile {
    if (writable) throw new ReadOnlyError(this.toString(), `opening the offset index of segment ${offset} for writing`);
    const s = this.segment(offset);
    // Key 0 would end the index (QUIRK Q37) and keys must increase: parts holding only a header are skipped.
    const entries = s.parts.filter((p) => p.start > 0 && p.commits > 0 && p.minTx > 0);
    if (entries.length === 0) throw new NotFoundError(`the archive holds no offset index for segment ${offset}`);
    const buffer = new MemoryBuffer();
    const bytes = new Uint8Array(entries.length * INDEX_ENTRY_LEN);
    entries.forEach((p, i) => {
      writeU64(bytes, i * INDEX_ENTRY_LEN, p.minTx);
      writeU64(bytes, i * INDEX_ENTRY_LEN + 8, p.start);
    });
    buffer.write(bytes, 0);
    return new MemoryFile(buffer, false);
  }

  createSegment(offset: number): StorageFile {
    throw new ReadOnlyError(this.toString(), `creating segment ${offset}`);
  }

  openSegmentWriter(offset: number): StorageFile {
    throw new ReadOnlyError(this.toString(), `opening segment ${offset} for writing`);
  }

  removeSegment(offset: number): void {
    throw new ReadOnlyError(this.toString(), `removing segment ${offset}`);
  }

  compressSegment(offset: number): CompressionStats {
    throw new ReadOnlyError(this.toString(), `compressing segment ${offset}`);
  }

  uncompressSegment(offset: number): void {
    throw new ReadOnlyError(this.toString(), `uncompressing segment ${offset}`);
  }

  createOffsetIndex(offset: number): StorageFile {
    throw new ReadOnlyError(this.toString(), `creating the offset index of segment ${offset}`);
  }

  removeOffsetIndex(offset: number): void {
    throw new ReadOnlyError(this.toString(), `removing the offset index of segment ${offset}`);
  }

  /** Stops the worker thread (it does not keep the process alive meanwhile; a later read restarts it). */
  close(): void {
    this.s3.close();
  }

  toString(): string {
    return `s3://${this.target.bucket}/${this.target.prefix}`;
  }
}

/** `S3Repo.open` by URL: `openS3Repo('s3://bucket/prefix', { endpoint })`. */
export function openS3Repo(target: string | S3Target, options: S3RepoOptions = {}): S3Repo {
  return S3Repo.open(target, options);
}
