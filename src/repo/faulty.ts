/**
 * A seeded fault-injecting `Repo` (the TigerBeetle habit: a simulator that breaks storage on purpose).
 * It wraps any repo and, per operation, either passes the call through or injects a fault: short
 * writes, ENOSPC and EIO on write, EIO on fsync, missing/short/corrupt offset index files, segments
 * that vanish or grow between calls. Faults come from per-kind probabilities (seeded, reproducible) or
 * are armed for the next eligible call(s). It also remembers what each file's last successful fsync
 * covered, so `powerLoss()` can show what a power cut would leave. For tests; never used by the log.
 */
import { SEGMENT_HEADER_LEN } from '../codec/segment-header.js';
import { IoError, NotFoundError } from '../errors.js';
import type { CompressionStats, Repo, StorageFile } from './repo.js';

export const FAULT_KINDS = [
  /** A strict, non-empty prefix of an append/positional write lands, then `IoError` (EIO). */
  'shortWrite',
  /** A write, segment creation or index creation fails with `IoError` ENOSPC; nothing lands. */
  'enospc',
  /** A write, truncation, removal or segment rewrite fails with `IoError` EIO; nothing changes. */
  'eioWrite',
  /** An fsync fails with `IoError` EIO; what it should have covered stays volatile. */
  'eioSync',
  /** Opening or creating an offset index finds it gone: the file is removed, `NotFoundError`. */
  'indexMissing',
  /** An offset index file is cut to a random shorter length (any byte count) before it is opened. */
  'indexShort',
  /** Random damage to the entries of an offset index file before it is opened. */
  'indexCorrupt',
  /** A segment is not there when opened (`NotFoundError`), as if removed since it was listed. */
  'segmentVanish',
  /** A segment that nobody is writing grows by a few junk bytes before a repo call proceeds. */
  'segmentGrow',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface InjectedFault {
  kind: FaultKind;
  /** The repo or file operation that failed or was preceded by the fault. */
  op: string;
  /** Segment (or index) offset concerned. */
  offset: number;
  detail?: string;
}

export interface ArmOptions {
  /** How many eligible calls fault (default 1). */
  times?: number;
  /** Eligible calls to let through first (default 0). */
  skip?: number;
  /** Only calls on this segment/index offset are eligible. */
  offset?: number;
}

export interface FaultyRepoOptions {
  seed?: number;
  /** Probability in [0, 1] that an eligible call gets a fault of that kind. */
  probabilities?: Partial<Record<FaultKind, number>>;
  /** What a growing segment is extended with (default random bytes). */
  growWith?: 'random' | 'zeros';
  /** Largest growth in bytes (default 64). */
  maxGrowth?: number;
}

type FileKind = 'segment' | 'index';

/** What the last successful fsync of one file covered. */
interface DurableState {
  /** Segment bytes from the start covered by a completed fsync. */
  syncedLen: number;
  /** Positional writes since the last fsync, with the bytes they replaced (index files). */
  journal: { position: number; before: Uint8Array }[];
}

/** Mulberry32: a tiny, fast, seedable PRNG; plenty for choosing faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const key = (kind: FileKind, offset: number): string => `${kind}:${offset}`;

export class FaultyRepo implements Repo {
  /** Faults injected so far, per kind. */
  readonly counts: Record<FaultKind, number>;
  /** The most recent injected faults (bounded), oldest first. */
  readonly history: InjectedFault[] = [];
  /** Probabilistic faults are drawn only while this is true; armed faults always fire. */
  enabled = true;
  readonly lock?: () => { release(): void };
  readonly syncDirectory?: () => void;

  private readonly random: () => number;
  private readonly probabilities: Record<FaultKind, number>;
  private readonly armed = new Map<FaultKind, Required<Omit<ArmOptions, 'offset'>> & { offset?: number }>();
  private readonly growWith: 'random' | 'zeros';
  private readonly maxGrowth: number;
  private readonly durable = new Map<string, DurableState>();
  /** Open writable handles per segment: segments being written are never grown. */
  private readonly writers = new Map<number, number>();
  /** Bumped by `crash()`: handles opened before it belong to a dead process. */
  private generation = 0;
  /** Locks taken through this repo and not yet released: a crash releases them, as the kernel would. */
  private readonly heldLocks = new Set<{ release(): void }>();

  constructor(
    readonly inner: Repo,
    options: FaultyRepoOptions = {},
  ) {
    this.random = seededRandom(options.seed ?? 1);
    this.probabilities = Object.fromEntries(FAULT_KINDS.map((k) => [k, options.probabilities?.[k] ?? 0])) as Record<
      FaultKind,
      number
    >;
    this.counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    this.growWith = options.growWith ?? 'random';
    this.maxGrowth = options.maxGrowth ?? 64;
    if (inner.lock) this.lock = () => this.trackLock(inner.lock!());
    // Directory syncs pass through without faults: directory operations count as durable at once here.
    if (inner.syncDirectory) this.syncDirectory = () => inner.syncDirectory!();
  }

  /** Total faults injected. */
  get injected(): number {
    let n = 0;
    for (const k of FAULT_KINDS) n += this.counts[k];
    return n;
  }

  setProbability(kind: FaultKind, p: number): void {
    this.probabilities[kind] = p;
  }

  /** Makes the next eligible call(s) of `kind` fault, whatever the probabilities. Replaces an earlier arm. */
  arm(kind: FaultKind, options: ArmOptions = {}): void {
    this.armed.set(kind, { times: options.times ?? 1, skip: options.skip ?? 0, offset: options.offset });
  }

  /** Cancels armed faults (of one kind, or all). */
  disarm(kind?: FaultKind): void {
    if (kind) this.armed.delete(kind);
    else this.armed.clear();
  }

  /** Runs `f` with probabilistic faults off (armed faults still fire). */
  withoutFaults<R>(f: () => R): R {
    const was = this.enabled;
    this.enabled = false;
    try {
      return f();
    } finally {
      this.enabled = was;
    }
  }

  /** A random integer in [0, n). */
  randomInt(n: number): number {
    return Math.floor(this.random() * n);
  }

  // -------------------------------------------------------------------------------------------
  // Deciding and recording faults

  /** @internal Whether this eligible call gets a fault of `kind`; records it if so. */
  decide(kind: FaultKind, op: string, offset: number, detail?: string): boolean {
    const armed = this.armed.get(kind);
    let fire = false;
    if (armed && (armed.offset === undefined || armed.offset === offset)) {
      if (armed.skip > 0) armed.skip--;
      else {
        fire = true;
        if (--armed.times <= 0) this.armed.delete(kind);
      }
    } else if (this.enabled && this.probabilities[kind] > 0) {
      fire = this.random() < this.probabilities[kind];
    }
    if (fire) this.record(kind, op, offset, detail);
    return fire;
  }

  private record(kind: FaultKind, op: string, offset: number, detail?: string): void {
    this.counts[kind]++;
    this.history.push({ kind, op, offset, detail });
    if (this.history.length > 256) this.history.shift();
  }

  /** @internal */
  fail(kind: FaultKind, errno: 'EIO' | 'ENOSPC', op: string, offset: number): IoError {
    return new IoError(`${op} of ${offset}: ${errno} (injected ${kind})`, { errno });
  }

  // -------------------------------------------------------------------------------------------
  // Durability bookkeeping (used by the file wrappers)

  /** @internal */
  state(kind: FileKind, offset: number): DurableState {
    const k = key(kind, offset);
    let s = this.durable.get(k);
    if (!s) {
      // A file this wrapper has not seen written is taken as durable as it is.
      s = { syncedLen: kind === 'segment' ? this.segmentSize(offset) : 0, journal: [] };
      this.durable.set(k, s);
    }
    return s;
  }

  /** @internal */
  writerOpened(offset: number, delta: 1 | -1): void {
    const n = (this.writers.get(offset) ?? 0) + delta;
    if (n <= 0) this.writers.delete(offset);
    else this.writers.set(offset, n);
  }

  private segmentSize(offset: number): number {
    try {
      const f = this.inner.openSegmentReader(offset);
      try {
        return f.size();
      } finally {
        f.close();
      }
    } catch {
      return 0;
    }
  }

  /** @internal */
  get currentGeneration(): number {
    return this.generation;
  }

  /**
   * The writing process dies (SIGKILL): what it wrote stays (the OS has it), its handles are gone.
   * Using one afterwards throws a plain `Error`, so a test that touches a dead log notices.
   */
  crash(): void {
    this.generation++;
    this.writers.clear();
    for (const lock of [...this.heldLocks]) lock.release();
  }

  private trackLock(inner: { release(): void }): { release(): void } {
    const lock = {
      release: (): void => {
        if (!this.heldLocks.delete(lock)) return;
        inner.release();
      },
    };
    this.heldLocks.add(lock);
    return lock;
  }

  /**
   * A power cut, applied to `target` (the inner repo, or a copy of it holding the same files): every
   * plain segment keeps what its last fsync covered plus a random part of the rest; every unsynced
   * index write is undone or kept at random (pages reach the disk in any order). Directory operations
   * (create, rename, unlink) count as durable at once, and so do truncations: every truncation in the
   * log is followed by an fsync. With `keep: 'synced'` the cut is the worst case: only what fsync
   * covered survives and every unsynced index write is undone. Returns the segment bytes dropped.
   */
  powerLoss(target: Repo = this.inner, keep: 'random' | 'synced' = 'random'): number {
    if (target === this.inner) this.crash();
    let dropped = 0;
    for (const offset of target.existingOffsets()) {
      const s = this.durable.get(key('segment', offset));
      if (!s || target.isCompressed(offset)) continue; // compressed segments are written atomically, synced
      const file = target.openSegmentWriter(offset);
      try {
        const size = file.size();
        if (size > s.syncedLen) {
          const kept = keep === 'synced' ? s.syncedLen : s.syncedLen + this.randomInt(size - s.syncedLen + 1);
          file.truncate(kept);
          dropped += size - kept;
        }
        // After the cut, what is left is what the disk holds.
        if (target === this.inner) s.syncedLen = file.size();
      } finally {
        file.close();
      }
    }
    for (const [k, s] of this.durable) {
      if (!k.startsWith('index:') || s.journal.length === 0) continue;
      let file: StorageFile;
      try {
        file = target.getOffsetIndex(Number(k.slice('index:'.length)), true);
      } catch {
        continue;
      }
      try {
        const size = file.size();
        for (let i = s.journal.length - 1; i >= 0; i--) {
          const { position, before } = s.journal[i]!;
          if ((keep === 'synced' || this.random() < 0.5) && position < size) {
            file.writeAt(before, 0, Math.min(before.length, size - position), position);
          }
        }
      } finally {
        file.close();
      }
      if (target === this.inner) s.journal.length = 0;
    }
    return dropped;
  }

  /** Marks everything as durable (e.g. after building a fixture through this repo). */
  markAllDurable(): void {
    this.durable.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Faults that change files "between calls"

  /** Grows one segment that no open handle is writing, if the fault fires. */
  private maybeGrow(op: string): void {
    if (!this.armed.has('segmentGrow') && (!this.enabled || this.probabilities.segmentGrow === 0)) return;
    // Junk after a complete header: bytes past the last commit (a file without a header is not a
    // segment the log ever leaves behind, SPEC §5.4 syncs the header before any commit).
    const candidates = this.inner
      .existingOffsets()
      .filter((o) => !this.writers.has(o) && !this.inner.isCompressed(o) && this.segmentSize(o) >= SEGMENT_HEADER_LEN);
    if (candidates.length === 0) return;
    const armed = this.armed.get('segmentGrow');
    const target = armed?.offset ?? candidates[this.randomInt(candidates.length)]!;
    if (!candidates.includes(target)) return;
    if (!this.decide('segmentGrow', op, target)) return;
    this.grow(target);
  }

  /** Appends junk to segment `offset` (also usable directly by tests). */
  grow(offset: number, bytes?: Uint8Array): void {
    const junk = bytes ?? new Uint8Array(1 + this.randomInt(this.maxGrowth));
    if (!bytes && this.growWith === 'random') for (let i = 0; i < junk.length; i++) junk[i] = this.randomInt(256);
    const file = this.inner.openSegmentWriter(offset);
    try {
      file.append(junk, 0, junk.length);
    } finally {
      file.close();
    }
  }

  /** Applies an index fault (missing/short/corrupt) to the index of `offset` before it is opened. */
  private indexFaults(op: string, offset: number): void {
    if (this.decide('indexMissing', op, offset)) {
      this.inner.removeOffsetIndex(offset);
      throw new NotFoundError(`offset index ${offset}: gone (injected indexMissing)`);
    }
    const short = this.decide('indexShort', op, offset);
    const corrupt = this.decide('indexCorrupt', op, offset);
    if (!short && !corrupt) return;
    let file: StorageFile;
    try {
      file = this.inner.getOffsetIndex(offset, true);
    } catch {
      return; // no index to damage: the fault is a no-op
    }
    try {
      const size = file.size();
      if (short && size > 0) file.truncate(this.randomInt(size));
      if (corrupt) this.corruptIndex(file);
    } finally {
      file.close();
    }
  }

  /** Damages the populated entries (plus one past them): bytes, keys, values, order. */
  private corruptIndex(file: StorageFile): void {
    const size = file.size();
    const bytes = new Uint8Array(size);
    file.read(bytes, 0, size, 0);
    let used = 0;
    while (used + 16 <= size && bytes.subarray(used, used + 8).some((b) => b !== 0)) used += 16;
    const span = Math.min(size, used + 16);
    if (span === 0) return;
    const damage = 1 + this.randomInt(4);
    for (let d = 0; d < damage; d++) {
      const entry = this.randomInt(Math.ceil(span / 16)) * 16;
      switch (this.randomInt(5)) {
        case 0: // a random byte anywhere in the entry
          bytes[Math.min(span - 1, entry + this.randomInt(16))] = this.randomInt(256);
          break;
        case 1: // a bit flip
          bytes[Math.min(span - 1, entry + this.randomInt(16))]! ^= 1 << this.randomInt(8);
          break;
        case 2: {
          // another entry's bytes (duplicate or out-of-order keys)
          const other = this.randomInt(Math.ceil(span / 16)) * 16;
          bytes.copyWithin(entry, other, Math.min(other + 16, span));
          break;
        }
        case 3: // a value (byte position) pointing anywhere
          for (let i = 8; i < 16 && entry + i < span; i++)
            bytes[entry + i] = this.randomInt(256) & (i === 15 ? 0 : 0xff);
          break;
        default: // a zero key: the index ends early (QUIRK Q37)
          for (let i = 0; i < 8 && entry + i < span; i++) bytes[entry + i] = 0;
      }
    }
    file.writeAt(bytes, 0, span, 0);
  }

  // -------------------------------------------------------------------------------------------
  // Repo

  existingOffsets(): number[] {
    this.maybeGrow('existingOffsets');
    return this.inner.existingOffsets();
  }

  createSegment(offset: number): StorageFile {
    if (this.decide('enospc', 'createSegment', offset)) throw this.fail('enospc', 'ENOSPC', 'createSegment', offset);
    const file = this.inner.createSegment(offset);
    this.durable.set(key('segment', offset), { syncedLen: 0, journal: [] });
    return new FaultyFile(this, file, 'segment', offset, true);
  }

  openSegmentWriter(offset: number): StorageFile {
    if (this.decide('segmentVanish', 'openSegmentWriter', offset)) {
      throw new NotFoundError(`segment ${offset}: gone (injected segmentVanish)`);
    }
    this.maybeGrow('openSegmentWriter');
    this.state('segment', offset);
    return new FaultyFile(this, this.inner.openSegmentWriter(offset), 'segment', offset, true);
  }

  openSegmentReader(offset: number): StorageFile {
    if (this.decide('segmentVanish', 'openSegmentReader', offset)) {
      throw new NotFoundError(`segment ${offset}: gone (injected segmentVanish)`);
    }
    this.maybeGrow('openSegmentReader');
    this.state('segment', offset);
    return new FaultyFile(this, this.inner.openSegmentReader(offset), 'segment', offset, false);
  }

  removeSegment(offset: number): void {
    if (this.decide('eioWrite', 'removeSegment', offset)) throw this.fail('eioWrite', 'EIO', 'removeSegment', offset);
    this.inner.removeSegment(offset);
    this.durable.delete(key('segment', offset));
    this.durable.delete(key('index', offset));
  }

  compressSegment(offset: number): CompressionStats {
    if (this.decide('eioWrite', 'compressSegment', offset))
      throw this.fail('eioWrite', 'EIO', 'compressSegment', offset);
    return this.inner.compressSegment(offset);
  }

  uncompressSegment(offset: number): void {
    if (this.decide('eioWrite', 'uncompressSegment', offset)) {
      throw this.fail('eioWrite', 'EIO', 'uncompressSegment', offset);
    }
    const was = this.inner.isCompressed(offset);
    this.inner.uncompressSegment(offset);
    // The rewrite is fsynced before it replaces the segment: all of it is durable.
    if (was) this.durable.set(key('segment', offset), { syncedLen: this.segmentSize(offset), journal: [] });
  }

  isCompressed(offset: number): boolean {
    return this.inner.isCompressed(offset);
  }

  createOffsetIndex(offset: number, capacity: number): StorageFile {
    if (this.decide('enospc', 'createOffsetIndex', offset))
      throw this.fail('enospc', 'ENOSPC', 'createOffsetIndex', offset);
    this.indexFaults('createOffsetIndex', offset);
    const file = this.inner.createOffsetIndex(offset, capacity);
    return new FaultyFile(this, file, 'index', offset, true);
  }

  getOffsetIndex(offset: number, writable = false): StorageFile {
    this.indexFaults('getOffsetIndex', offset);
    return new FaultyFile(this, this.inner.getOffsetIndex(offset, writable), 'index', offset, writable);
  }

  removeOffsetIndex(offset: number): void {
    this.inner.removeOffsetIndex(offset);
    this.durable.delete(key('index', offset));
  }

  sizeOnDisk(): number {
    return this.inner.sizeOnDisk();
  }
}

/** A file handle of a `FaultyRepo`: writes and syncs may fail; durability is tracked. */
class FaultyFile implements StorageFile {
  private closed = false;
  private readonly generation: number;

  constructor(
    private readonly repo: FaultyRepo,
    private readonly inner: StorageFile,
    private readonly kind: FileKind,
    private readonly offset: number,
    private readonly writable: boolean,
  ) {
    this.generation = repo.currentGeneration;
    if (writable && kind === 'segment') repo.writerOpened(offset, 1);
  }

  private alive(): void {
    if (this.generation !== this.repo.currentGeneration) {
      throw new Error(`${this.kind} ${this.offset}: handle of a crashed process used`);
    }
  }

  size(): number {
    this.alive();
    return this.inner.size();
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    this.alive();
    return this.inner.read(buf, offset, length, position);
  }

  append(buf: Uint8Array, offset: number, length: number): void {
    this.write(buf, offset, length, null);
  }

  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    this.write(buf, offset, length, position);
  }

  private write(buf: Uint8Array, offset: number, length: number, position: number | null): void {
    this.alive();
    const op = `${this.kind} ${position === null ? 'append' : 'writeAt'}`;
    const r = this.repo;
    if (length > 1 && r.decide('shortWrite', op, this.offset)) {
      const n = 1 + r.randomInt(length - 1);
      this.land(buf, offset, n, position);
      throw r.fail('shortWrite', 'EIO', `${op} (short: ${n} of ${length} bytes)`, this.offset);
    }
    if (r.decide('enospc', op, this.offset)) throw r.fail('enospc', 'ENOSPC', op, this.offset);
    if (r.decide('eioWrite', op, this.offset)) throw r.fail('eioWrite', 'EIO', op, this.offset);
    this.land(buf, offset, length, position);
  }

  private land(buf: Uint8Array, offset: number, length: number, position: number | null): void {
    if (position === null) {
      this.inner.append(buf, offset, length);
      return;
    }
    // Positional writes (index entries) are journaled so a power loss can undo them.
    const before = new Uint8Array(length);
    const got = this.inner.read(before, 0, length, position);
    this.inner.writeAt(buf, offset, length, position);
    this.repo.state(this.kind, this.offset).journal.push({ position, before: before.subarray(0, Math.max(got, 0)) });
  }

  truncate(length: number): void {
    this.alive();
    if (this.repo.decide('eioWrite', `${this.kind} truncate`, this.offset)) {
      throw this.repo.fail('eioWrite', 'EIO', `${this.kind} truncate`, this.offset);
    }
    this.inner.truncate(length);
    const s = this.repo.state(this.kind, this.offset);
    if (s.syncedLen > length) s.syncedLen = length;
  }

  sync(): void {
    this.alive();
    if (this.repo.decide('eioSync', `${this.kind} sync`, this.offset)) {
      throw this.repo.fail('eioSync', 'EIO', `${this.kind} sync`, this.offset);
    }
    const covered = this.inner.size();
    this.inner.sync();
    this.synced(covered);
  }

  async syncAsync(): Promise<void> {
    this.alive();
    if (this.repo.decide('eioSync', `${this.kind} syncAsync`, this.offset)) {
      throw this.repo.fail('eioSync', 'EIO', `${this.kind} syncAsync`, this.offset);
    }
    // Only what was written before the fsync started is covered by it.
    const covered = this.inner.size();
    const journaled = this.repo.state(this.kind, this.offset).journal.length;
    if (this.inner.syncAsync) await this.inner.syncAsync();
    else this.inner.sync();
    this.synced(covered, journaled);
  }

  private synced(covered: number, journaled = Infinity): void {
    const s = this.repo.state(this.kind, this.offset);
    if (covered > s.syncedLen) s.syncedLen = Math.min(covered, this.inner.size());
    s.journal.splice(0, journaled);
  }

  close(): void {
    const live = this.generation === this.repo.currentGeneration;
    if (!this.closed && live && this.writable && this.kind === 'segment') this.repo.writerOpened(this.offset, -1);
    this.closed = true;
    this.inner.close();
  }
}
