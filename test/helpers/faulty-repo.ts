/**
 * `FaultyRepo`: a `MemoryRepo` whose segment files fail `append`/`sync` on command, whose asynchronous
 * fsyncs can be held and released (or failed) by the test, and which remembers how many bytes of each
 * segment a completed sync covers, so `crashImage()` shows what a power loss would leave.
 */
import { type CompressionStats, IoError, MemoryRepo, type Repo, type StorageFile } from '../../src/index.js';

export function injectedError(what = 'injected fault'): IoError {
  return new IoError(what, { errno: 'EIO' });
}

interface HeldSync {
  finish(error: unknown | null): void;
}

export class FaultyRepo implements Repo {
  readonly inner = new MemoryRepo();
  /** Segment offset → bytes from its start covered by a completed sync. */
  readonly synced = new Map<number, number>();
  /** Syncs started (sync and syncAsync) and completed successfully. */
  syncsStarted = 0;
  syncsCompleted = 0;
  private syncFailures: unknown[] = [];
  private appendFailures: unknown[] = [];
  private holding = false;
  private held: HeldSync[] = [];

  /** The next sync (either kind) fails with `error` instead of syncing. */
  failNextSync(error: unknown = injectedError('injected fsync failure')): void {
    this.syncFailures.push(error);
  }

  /** The next segment append fails with `error`, writing nothing. */
  failNextAppend(error: unknown = injectedError('injected write failure')): void {
    this.appendFailures.push(error);
  }

  /** From now on `syncAsync` calls wait for `releaseSyncs` (synchronous `sync` calls are not held). */
  holdSyncs(): void {
    this.holding = true;
  }

  /** Completes every held sync (failing them all with `error` if given); `keepHolding` holds later ones. */
  releaseSyncs(error: unknown | null = null, keepHolding = false): number {
    this.holding = keepHolding;
    const held = this.held;
    this.held = [];
    for (const h of held) h.finish(error);
    return held.length;
  }

  get heldSyncs(): number {
    return this.held.length;
  }

  /** What survives a power loss now: each segment cut to its synced length (never-synced ones are gone). */
  crashImage(): MemoryRepo {
    const image = new MemoryRepo();
    for (const [offset, buf] of this.inner.segments) {
      const len = Math.min(this.synced.get(offset) ?? 0, buf.length);
      if (len === 0) continue;
      image.createSegment(offset).append(buf.data, 0, len);
    }
    return image;
  }

  // Repo ---------------------------------------------------------------------------------------

  existingOffsets(): number[] {
    return this.inner.existingOffsets();
  }
  createSegment(offset: number): StorageFile {
    return new FaultyFile(this, offset, this.inner.createSegment(offset));
  }
  openSegmentWriter(offset: number): StorageFile {
    return new FaultyFile(this, offset, this.inner.openSegmentWriter(offset));
  }
  openSegmentReader(offset: number): StorageFile {
    return this.inner.openSegmentReader(offset);
  }
  removeSegment(offset: number): void {
    this.synced.delete(offset);
    this.inner.removeSegment(offset);
  }
  compressSegment(offset: number): CompressionStats {
    return this.inner.compressSegment(offset);
  }
  uncompressSegment(offset: number): void {
    this.inner.uncompressSegment(offset);
  }
  isCompressed(offset: number): boolean {
    return this.inner.isCompressed(offset);
  }
  createOffsetIndex(offset: number, capacity: number): StorageFile {
    return this.inner.createOffsetIndex(offset, capacity);
  }
  getOffsetIndex(offset: number, writable?: boolean): StorageFile {
    return this.inner.getOffsetIndex(offset, writable);
  }
  removeOffsetIndex(offset: number): void {
    this.inner.removeOffsetIndex(offset);
  }
  sizeOnDisk(): number {
    return this.inner.sizeOnDisk();
  }

  // Called by FaultyFile -----------------------------------------------------------------------

  takeAppendFailure(): unknown | undefined {
    return this.appendFailures.shift();
  }

  /** Starts a sync of `offset` covering `length` bytes; null when it succeeds at once. */
  startSync(offset: number, length: number): unknown | null {
    this.syncsStarted++;
    const failure = this.syncFailures.shift();
    if (failure !== undefined) return failure;
    this.completeSync(offset, length);
    return null;
  }

  completeSync(offset: number, length: number): void {
    this.syncsCompleted++;
    if (length > (this.synced.get(offset) ?? 0)) this.synced.set(offset, length);
  }

  syncAsync(offset: number, length: number): Promise<void> {
    if (!this.holding) {
      const failure = this.startSync(offset, length);
      return failure === null ? Promise.resolve() : Promise.reject(failure);
    }
    this.syncsStarted++;
    return new Promise<void>((resolve, reject) => {
      this.held.push({
        finish: (error) => {
          const failure = error ?? this.syncFailures.shift() ?? null;
          if (failure !== null) return reject(failure);
          this.completeSync(offset, length);
          resolve();
        },
      });
    });
  }
}

class FaultyFile implements StorageFile {
  constructor(
    private readonly repo: FaultyRepo,
    private readonly offset: number,
    private readonly inner: StorageFile,
  ) {}

  size(): number {
    return this.inner.size();
  }
  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    return this.inner.read(buf, offset, length, position);
  }
  append(buf: Uint8Array, offset: number, length: number): void {
    const failure = this.repo.takeAppendFailure();
    if (failure !== undefined) throw failure;
    this.inner.append(buf, offset, length);
  }
  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    this.inner.writeAt(buf, offset, length, position);
  }
  truncate(length: number): void {
    this.inner.truncate(length);
    // Cutting a file shortens what a crash leaves of it too.
    const synced = this.repo.synced.get(this.offset);
    if (synced !== undefined && synced > length) this.repo.synced.set(this.offset, length);
  }
  sync(): void {
    const failure = this.repo.startSync(this.offset, this.inner.size());
    if (failure !== null) throw failure;
  }
  /** Covers the bytes written before the call, like fdatasync. */
  syncAsync(): Promise<void> {
    return this.repo.syncAsync(this.offset, this.inner.size());
  }
  close(): void {
    this.inner.close();
  }
}
