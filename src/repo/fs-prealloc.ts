/**
 * A segment file that keeps zero-filled space ahead of the writer (issue 7). Appending into blocks that
 * are already allocated and written leaves the file's size and extents unchanged, so the fdatasync that
 * makes a commit durable has no metadata to journal: measured 1.19–1.27× the single-producer durable
 * commits/s here (BENCHMARKS.md). Readers stop at the zero tail (`CommitReader`), resume cuts it, and
 * sealing or closing the file cuts it too, so a cleanly closed segment is byte-identical to an
 * unpreallocated one.
 */
import { debug } from '../debug.js';
import { FsFile, openFd } from './fs-file.js';

/** Zeros written per call while extending; allocated once. */
const ZEROS = new Uint8Array(256 * 1024);

export class PreallocatingFile extends FsFile {
  /** End of the data written (what `size` reports), and end of the file including the zero tail. */
  private logical: number;
  private allocated: number;
  private chunk: number;
  /** Bytes appended since the last sync: large synced batches are left to grow the file (see `syncing`). */
  private sinceSync = 0;

  private constructor(fd: number, path: string, chunk: number) {
    super(fd, path);
    this.chunk = chunk;
    this.allocated = super.size();
    // Resume cuts a zero tail left by a crash (it finds the end of the last commit): until then the
    // whole file counts, so that check sees it.
    this.logical = this.allocated;
  }

  /** Opens `path` with `flags` (never O_APPEND: appends are positional). */
  static openPreallocating(path: string, flags: string | number, chunk: number): PreallocatingFile {
    return new PreallocatingFile(openFd(path, flags), path, chunk);
  }

  override size(): number {
    return this.logical;
  }

  override read(buf: Uint8Array, offset: number, length: number, position: number): number {
    return super.read(buf, offset, Math.max(0, Math.min(length, this.logical - position)), position);
  }

  override append(buf: Uint8Array, offset: number, length: number): void {
    super.writeAt(buf, offset, length, this.logical);
    this.logical += length;
    this.sinceSync += length;
    if (this.logical > this.allocated) this.allocated = this.logical;
  }

  override sync(): void {
    this.syncing();
    super.sync();
  }

  override syncAsync(): Promise<void> {
    this.syncing();
    return super.syncAsync();
  }

  /**
   * Extends the zero tail just before a sync, so the same fsync writes it out and the next commits
   * overwrite allocated blocks. Only when the batch being synced is small: there the journal commit
   * for the size change dominates the fsync. A large batch (bulk loads, 1000 producers) would pay
   * for every byte twice, zeros first, so it grows the file instead; without a sync nothing is zeroed.
   */
  private syncing(): void {
    const small = this.sinceSync <= this.chunk >>> 3;
    this.sinceSync = 0;
    if (this.chunk > 0 && small && this.allocated - this.logical < this.chunk >>> 1) this.extend();
  }

  override truncate(length: number): void {
    super.truncate(length);
    this.logical = length;
    this.allocated = length;
  }

  /** Zero-fills up to `chunk` bytes past the data (into the page cache; the sync after it writes it out). */
  private extend(): void {
    const target = this.logical + this.chunk;
    try {
      while (this.allocated < target) {
        const n = Math.min(ZEROS.length, target - this.allocated);
        super.writeAt(ZEROS, 0, n, this.allocated);
        this.allocated += n;
      }
    } catch (e) {
      // The data is written; only the space ahead is missing (a full disk, most likely). Stop
      // preallocating this file: the partial zero tail is harmless, and cut on close.
      debug('preallocating %s failed, appending without it: %s', this.path, (e as Error).message);
      this.chunk = 0;
    }
  }

  seal(): void {
    this.chunk = 0;
    this.cutTail();
  }

  protected override beforeClose(): void {
    this.cutTail();
  }

  private cutTail(): void {
    if (this.allocated <= this.logical) return;
    try {
      super.truncate(this.logical);
      this.allocated = this.logical;
    } catch (e) {
      // A zero tail left in place reads as the end of the segment: nothing is lost.
      debug('cutting the preallocated tail of %s failed: %s', this.path, (e as Error).message);
    }
  }
}
