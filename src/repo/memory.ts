/** An in-memory repository (Rust `repo::Memory`) for tests and fault injection. */
import { AlreadyExistsError, NotFoundError } from '../errors.js';
import type { CompressionStats, OnNewSegment, Repo, StorageFile } from './repo.js';

/** The bytes of one in-memory file, shared by every handle on it (like an inode). */
export class MemoryBuffer {
  data = new Uint8Array(0);
  length = 0;

  private reserve(n: number): void {
    if (n <= this.data.length) return;
    const next = new Uint8Array(Math.max(n, this.data.length * 2, 256));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  write(src: Uint8Array, position: number): void {
    this.reserve(position + src.length);
    if (position > this.length) this.data.fill(0, this.length, position);
    this.data.set(src, position);
    if (position + src.length > this.length) this.length = position + src.length;
  }

  setLength(n: number): void {
    if (n > this.length) {
      this.reserve(n);
      this.data.fill(0, this.length, n);
    }
    this.length = n;
  }

  bytes(): Uint8Array {
    return this.data.subarray(0, this.length);
  }
}

export class MemoryFile implements StorageFile {
  private closed = false;
  constructor(
    readonly buffer: MemoryBuffer,
    private readonly writable: boolean,
  ) {}

  size(): number {
    return this.buffer.length;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.buffer.length - position));
    if (n > 0) buf.set(this.buffer.data.subarray(position, position + n), offset);
    return n;
  }

  append(buf: Uint8Array, offset: number, length: number): void {
    this.writeAt(buf, offset, length, this.buffer.length);
  }

  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    this.checkWritable();
    this.buffer.write(buf.subarray(offset, offset + length), position);
  }

  truncate(length: number): void {
    this.checkWritable();
    this.buffer.setLength(length);
  }

  sync(): void {}

  close(): void {
    this.closed = true;
  }

  private checkWritable(): void {
    if (this.closed) throw new Error('write to a closed memory file');
    if (!this.writable) throw new Error('write to a read-only memory file');
  }
}

export interface MemoryRepoOptions {
  /** Keep offset index files too (1.3.0's memory repo has none, so the ported tests run without). */
  offsetIndex?: boolean;
  /** See `Repo.onNewSegment`. */
  onNewSegment?: OnNewSegment;
}

export class MemoryRepo implements Repo {
  readonly segments = new Map<number, MemoryBuffer>();
  readonly indexes = new Map<number, MemoryBuffer>();
  private readonly withIndex: boolean;
  readonly onNewSegment?: OnNewSegment;

  constructor(options: MemoryRepoOptions = {}) {
    this.withIndex = options.offsetIndex ?? false;
    if (options.onNewSegment) this.onNewSegment = options.onNewSegment;
  }

  existingOffsets(): number[] {
    return [...this.segments.keys()].sort((a, b) => a - b);
  }

  createSegment(offset: number): StorageFile {
    let buf = this.segments.get(offset);
    if (buf && buf.length > 0) throw new AlreadyExistsError(`segment ${offset} already exists and is not empty`);
    if (!buf) {
      buf = new MemoryBuffer();
      this.segments.set(offset, buf);
    }
    return new MemoryFile(buf, true);
  }

  openSegmentWriter(offset: number): StorageFile {
    return new MemoryFile(this.segment(offset), true);
  }

  openSegmentReader(offset: number): StorageFile {
    return new MemoryFile(this.segment(offset), false);
  }

  removeSegment(offset: number): void {
    this.indexes.delete(offset);
    if (!this.segments.delete(offset)) throw new NotFoundError(`segment ${offset} not found`);
  }

  compressSegment(_offset: number): CompressionStats {
    return { bytesRead: 0, bytesWritten: 0 };
  }

  uncompressSegment(_offset: number): void {}

  isCompressed(_offset: number): boolean {
    return false;
  }

  createOffsetIndex(offset: number, capacity: number): StorageFile {
    if (!this.withIndex) throw new NotFoundError('offset index not supported by this memory repo');
    let buf = this.indexes.get(offset);
    if (!buf) {
      buf = new MemoryBuffer();
      this.indexes.set(offset, buf);
    }
    buf.setLength(capacity * 16);
    return new MemoryFile(buf, true);
  }

  getOffsetIndex(offset: number, writable = false): StorageFile {
    const buf = this.withIndex ? this.indexes.get(offset) : undefined;
    if (!buf) throw new NotFoundError(`offset index ${offset} not found`);
    return new MemoryFile(buf, writable);
  }

  removeOffsetIndex(offset: number): void {
    this.indexes.delete(offset);
  }

  sizeOnDisk(): number {
    let total = 0;
    for (const [offset, seg] of this.segments) total += seg.length + (this.indexes.get(offset)?.length ?? 0);
    return total;
  }

  private segment(offset: number): MemoryBuffer {
    const buf = this.segments.get(offset);
    if (!buf) throw new NotFoundError(`segment ${offset} not found`);
    return buf;
  }
}
