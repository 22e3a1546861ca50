/**
 * Fixed-size blocks of archive objects, fetched with ranged GETs and kept in a small LRU, so a
 * sequential traversal (which reads a segment in chunks far smaller than a block) costs one request
 * per block. A block that covers a whole object is checked against the manifest's CRC32C.
 */
import { crc32c } from '../codec/crc32c.js';
import { InvalidDataError } from '../errors.js';
import type { SyncS3 } from './sync-s3.js';

/** One object of the archive as the manifest describes it. */
export interface ArchiveObject {
  /** Full key (prefix included). */
  key: string;
  /** Size the manifest gives: every answer is checked against it. */
  size: number;
  crc32c: number;
}

export class BlockCache {
  private readonly blocks = new Map<string, Uint8Array>();

  constructor(
    private readonly s3: SyncS3,
    readonly blockBytes: number,
    readonly maxBlocks: number,
  ) {}

  /** Block `index` of `obj` (the last one may be short). */
  block(obj: ArchiveObject, index: number): Uint8Array {
    const id = `${index}:${obj.key}`;
    const hit = this.blocks.get(id);
    if (hit) {
      // Re-inserted: a Map iterates in insertion order, so the first entry is the least recently used.
      this.blocks.delete(id);
      this.blocks.set(id, hit);
      return hit;
    }
    const start = index * this.blockBytes;
    const end = Math.min(obj.size, start + this.blockBytes);
    if (start >= end) throw new InvalidDataError(`archive object s3://${this.s3.bucket}/${obj.key}: block ${index} is past its ${obj.size} bytes`);
    const bytes = this.s3.read(obj.key, start, end, obj.size);
    if (start === 0 && end === obj.size && crc32c(bytes) !== obj.crc32c) {
      throw new InvalidDataError(`archive object s3://${this.s3.bucket}/${obj.key}: CRC32C mismatch (the manifest says ${obj.crc32c.toString(16).padStart(8, '0')})`);
    }
    this.blocks.set(id, bytes);
    while (this.blocks.size > this.maxBlocks) this.blocks.delete(this.blocks.keys().next().value!);
    return bytes;
  }
}
