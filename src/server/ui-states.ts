/**
 * The database states `clog ui` shows: the log replayed up to a transaction (or to its head) into a
 * temporary SQLite file by the bounded-memory export engine (`SqliteReplay`), kept in a small LRU.
 * Builds run one at a time, asynchronously (the export yields between batches), so the server keeps
 * answering while a big log replays; readers page through the file with their own read-only
 * connection and never hold a table in the heap.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { listLogDir } from '../api/ops.js';
import { ExportError, type ExportProgress, type ExportResult, ExportStoppedError, SqliteReplay } from '../api/replay.js';
import { ErrorCodes, messageOf } from '../index.js';

/**
 * States kept at once (the head and a few time-travel points). Each holds a SQLite file and two
 * connections; the export connection's page cache can grow to 64 MiB on a big log, so a few is the
 * most that keeps `clog ui` inside a few hundred MiB.
 */
export const MAX_STATES = 3;
/** Builds waiting behind the running one; more are refused (503) instead of piling up. */
export const MAX_QUEUED_BUILDS = 4;
/**
 * The export yields to the event loop between SQLite transactions of about this many bytes of log
 * (its default is 16 MiB): other requests wait at most one such batch behind a build (~0.2 s).
 */
const BUILD_BATCH_BYTES = 4 * 1024 * 1024;
/** Page cache of a reader connection (KiB): paged queries touch few pages. */
const READER_CACHE_KIB = 4096;

/** A replayed state, ready to read. */
export interface DbState {
  /** The transaction asked for, or null for the head. */
  at: number | null;
  /** Null when nothing could be replayed (the log is damaged at its first transaction). */
  replay: SqliteReplay | null;
  reader: Database.Database | null;
  result: ExportResult | null;
  /** Why the replay stopped early (damage, an unsupported type): the state is the one before it. */
  damage: string | null;
}

export interface BuildProgress {
  queued: boolean;
  bytesRead: number;
  totalBytes: number;
  lastOffset: number;
}

export class BusyError extends Error {}

interface Slot {
  key: string;
  at: number | null;
  file: string;
  /** The log's signature when the build started; a state that depends on the log's end is rebuilt when it changes. */
  signature: string;
  state: DbState | null;
  failure: Error | null;
  building: Promise<void> | null;
  progress: BuildProgress;
}

/** Cheap to compute: changes whenever a commit is appended, a segment added, or the log reset. */
export function logSignature(dir: string): string {
  const names = listLogDir(dir).segmentFiles.map((f) => f.name);
  const newest = names.at(-1);
  if (newest === undefined) return '';
  const st = fs.statSync(path.join(dir, newest), { throwIfNoEntry: false });
  return `${names.join(',')}:${st?.size ?? -1}:${st?.mtimeMs ?? -1}`;
}

export class StateCache {
  private readonly slots = new Map<string, Slot>();
  private readonly tempDir: string;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;
  private readonly onExit = (): void => this.removeTemp();

  constructor(private readonly dir: string) {
    this.tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-ui-states-'));
    process.once('exit', this.onExit);
  }

  /**
   * The state at `at` (null: the head). Waits up to `waitMs` for a build; still building after that,
   * resolves with its progress so the page can poll instead of holding a request open.
   */
  async get(at: number | null, waitMs: number): Promise<DbState | BuildProgress> {
    const slot = this.slotFor(at);
    if (slot.building) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([slot.building, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
      clearTimeout(timer);
    }
    if (slot.state) return slot.state;
    if (slot.failure) throw slot.failure;
    return { ...slot.progress };
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots.values()) closeState(slot.state);
    this.slots.clear();
    this.removeTemp();
    process.off('exit', this.onExit);
  }

  private slotFor(at: number | null): Slot {
    const key = at === null ? 'head' : String(at);
    const signature = logSignature(this.dir);
    let slot = this.slots.get(key);
    if (slot) {
      this.slots.delete(key); // most recently used goes last
      this.slots.set(key, slot);
      if (!slot.building && this.stale(slot, signature)) this.build(slot, signature);
      return slot;
    }
    if (this.queued >= MAX_QUEUED_BUILDS) throw new BusyError(`${this.queued} database states are being built; retry later`);
    slot = {
      key,
      at,
      file: path.join(fs.mkdtempSync(path.join(this.tempDir, 'state-')), 'state.sqlite'),
      signature,
      state: null,
      failure: null,
      building: null,
      progress: { queued: true, bytesRead: 0, totalBytes: 0, lastOffset: -1 },
    };
    this.slots.set(key, slot);
    this.evict();
    this.build(slot, signature);
    return slot;
  }

  /** A state at N stays valid while the log grows, unless the log ended before N when it was built. */
  private stale(slot: Slot, signature: string): boolean {
    if (signature === slot.signature) return false;
    if (slot.at === null || slot.failure) return true;
    const last = slot.state?.result?.lastOffset ?? -1;
    return slot.state?.damage !== null || last < slot.at;
  }

  private evict(): void {
    for (const [key, slot] of this.slots) {
      if (this.slots.size <= MAX_STATES) break;
      if (slot.building) continue;
      closeState(slot.state);
      fs.rmSync(path.dirname(slot.file), { recursive: true, force: true });
      this.slots.delete(key);
    }
  }

  private build(slot: Slot, signature: string): void {
    const previous = slot.state;
    const fresh = previous === null || previous.damage !== null || slot.failure !== null;
    closeState(previous);
    slot.state = null;
    slot.failure = null;
    slot.signature = signature;
    slot.progress = { queued: true, bytesRead: 0, totalBytes: 0, lastOffset: -1 };
    this.queued++;
    const run = async (): Promise<void> => {
      this.queued--;
      if (this.closed) return;
      slot.progress.queued = false;
      try {
        // The head's file is continued where it stopped (only new commits are applied), unless the
        // last build ended at damage: a continued export would trip over that commit again.
        if (fresh) removeFile(slot.file);
        const onProgress = (p: ExportProgress): void => {
          slot.progress = { queued: false, bytesRead: p.bytesRead, totalBytes: p.totalBytes, lastOffset: p.lastOffset };
        };
        try {
          slot.state = await buildState(this.dir, slot.at, slot.file, onProgress);
        } catch (e) {
          // The log was reset (or replaced) since the file was made: start over.
          if (!(e instanceof ExportError && e.code === ErrorCodes.EXPORT_MISMATCH)) throw e;
          removeFile(slot.file);
          slot.state = await buildState(this.dir, slot.at, slot.file, onProgress);
        }
      } catch (e) {
        slot.failure = e instanceof Error ? e : new Error(String(e));
      }
      if (this.closed) closeState(slot.state);
    };
    const done = this.queue.then(run);
    this.queue = done;
    slot.building = done.finally(() => {
      slot.building = null;
    });
  }

  private removeTemp(): void {
    fs.rmSync(this.tempDir, { recursive: true, force: true });
  }
}

function removeFile(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
}

function closeState(state: DbState | null): void {
  state?.reader?.close();
  state?.replay?.close();
}

async function buildState(dir: string, at: number | null, file: string, onProgress: (p: ExportProgress) => void): Promise<DbState> {
  let replay: SqliteReplay;
  let damage: string | null = null;
  try {
    replay = await SqliteReplay.open(dir, { at: at ?? undefined, file, onProgress, batchBytes: BUILD_BATCH_BYTES });
  } catch (e) {
    if (!(e instanceof ExportStoppedError)) throw e;
    damage = messageOf(e.cause);
    if (e.lastOffset < 0) return { at, replay: null, reader: null, result: null, damage };
    // The file holds the state before the damage, but continuing it would read the damaged commit
    // again: replay afresh, stopping before it.
    removeFile(file);
    replay = await SqliteReplay.open(dir, { at: Math.min(e.lastOffset, at ?? Infinity), file, batchBytes: BUILD_BATCH_BYTES });
  }
  const reader = new Database(file, { readonly: true, fileMustExist: true });
  reader.pragma(`cache_size = -${READER_CACHE_KIB}`);
  reader.defaultSafeIntegers(true);
  return { at, replay, reader, result: replay.result, damage };
}
