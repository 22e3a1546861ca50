/**
 * Fixed-size blocks of archive objects, fetched with ranged GETs and kept in a small LRU, so a
 * sequential traversal (which reads a segment in chunks far smaller than a block) costs one request
 * per block. An object's CRC32C (from the manifest) is checked whenever its blocks are fetched in
 * order from the first to the last: always for an object within one block, and for any object a
 * sequential pass reads. A random read of a block in the middle cannot be checked (commit CRCs still are).
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

/** Objects whose CRC is being accumulated at once: a sequential reader has one; random access drops them. */
const MAX_RUNNING_CRCS = 64;

export class BlockCache {
  private readonly blocks = new Map<string, Uint8Array>();
  /** Per object key: the next block expected in order and the CRC of the blocks before it. */
  private readonly running = new Map<string, { next: number; crc: number }>();

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
    this.checkInOrder(obj, index, bytes, end === obj.size);
    this.blocks.set(id, bytes);
    while (this.blocks.size > this.maxBlocks) this.blocks.delete(this.blocks.keys().next().value!);
    return bytes;
  }

  private checkInOrder(obj: ArchiveObject, index: number, bytes: Uint8Array, last: boolean): void {
    const r = index === 0 ? { next: 0, crc: 0 } : this.running.get(obj.key);
    this.running.delete(obj.key);
    if (!r || r.next !== index) return;
    const crc = crc32c(bytes, r.crc);
    if (last) {
      if (crc !== obj.crc32c) {
        throw new InvalidDataError(`archive object s3://${this.s3.bucket}/${obj.key}: CRC32C mismatch (the manifest says ${obj.crc32c.toString(16).padStart(8, '0')})`);
      }
      return;
    }
    this.running.set(obj.key, { next: index + 1, crc });
    while (this.running.size > MAX_RUNNING_CRCS) this.running.delete(this.running.keys().next().value!);
  }
}
