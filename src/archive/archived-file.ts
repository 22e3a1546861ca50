/**
 * A read-only `StorageFile` over archive objects laid end to end: the parts of a plain segment (each
 * covering `[start, end)` of it), or the single zstd object of a compressed one (then wrapped in
 * `ZstdSegmentFile`, which reads its seek table and frames through this). Reads go through the
 * repository's `BlockCache`.
 */
import { ReadOnlyError } from '../errors.js';
import type { StorageFile } from '../repo/repo.js';
import type { ArchiveObject, BlockCache } from './block-cache.js';

export interface ArchivedPiece extends ArchiveObject {
  /** Where the object's bytes start in the file. */
  start: number;
}

export class ArchivedFile implements StorageFile {
  private readonly length: number;

  /** `pieces` contiguous from 0 (the manifest's validation guarantees it for parts). */
  constructor(
    private readonly cache: BlockCache,
    private readonly pieces: readonly ArchivedPiece[],
    private readonly what: string,
  ) {
    const last = pieces[pieces.length - 1];
    this.length = last ? last.start + last.size : 0;
  }

  size(): number {
    return this.length;
  }

  private pieceAt(position: number): ArchivedPiece {
    let lo = 0;
    let hi = this.pieces.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.pieces[mid]!.start <= position) lo = mid;
      else hi = mid - 1;
    }
    return this.pieces[lo]!;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    let done = 0;
    while (done < length && position + done < this.length) {
      const piece = this.pieceAt(position + done);
      const inPiece = position + done - piece.start;
      const index = Math.floor(inPiece / this.cache.blockBytes);
      const block = this.cache.block(piece, index);
      const from = inPiece - index * this.cache.blockBytes;
      const n = Math.min(length - done, block.length - from);
      buf.set(block.subarray(from, from + n), offset + done);
      done += n;
    }
    return done;
  }

  append(): void {
    throw new ReadOnlyError(this.what, 'append');
  }

  writeAt(): void {
    throw new ReadOnlyError(this.what, 'write');
  }

  truncate(): void {
    throw new ReadOnlyError(this.what, 'truncate');
  }

  sync(): void {}

  close(): void {}
}
