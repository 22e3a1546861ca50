/**
 * `exportSqlite(source, file)`: a SpacetimeDB log replayed into a SQLite file with bounded memory
 * (issue 15). Only the schema tables stay in memory; every row goes to SQLite. Commits are applied in
 * SQLite transactions that end on commit boundaries, and the log position goes into the same
 * transaction, so a reader of the file (another process, any time) sees a state the database had and
 * a later run continues exactly where this one stopped.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { StoredCommit } from '../codec/commit.js';
import { CommitlogError, ErrorCodes, InvalidInputError, NotFoundError, TraversalError, messageOf } from '../errors.js';
import { type LogSource, commitIterator, toRepo } from '../log/free.js';
import { BufReader } from '../payload/buf-reader.js';
import { consumeRecordFn, skipRecordFn } from '../payload/visitor.js';
import { leftOverError, wrapReplayError } from '../replay/errors.js';
import type { TableSchema } from '../replay/schema.js';
import { BinaryReader, type Row } from '../replay/stdb.js';
import { type MajorVersion, ST_COLUMN_ID, ST_TABLE_ID, ST_VIEW_ID } from '../replay/system-tables.js';
import { ReplayVisitor } from '../replay/visitor.js';
import { sleep } from './sleep.js';
import { ExportError, SqliteRowStore } from './sqlite-store.js';

export interface ExportOptions {
  /** Apply transactions up to and including this offset (default: the whole log). */
  at?: number;
  /** Keep applying commits as the log grows, until `signal` aborts. */
  follow?: boolean;
  /** How often `follow` looks for new commits (default 500 ms). */
  pollMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
  /** System tables to know (default: 1.x and 2.x). */
  version?: MajorVersion | 'all';
  /** While catching up, commits are grouped into SQLite transactions of about this many bytes (default 16 MiB). */
  batchBytes?: number;
  /**
   * Caps the SQLite file (SQLite's `max_page_count`): past it the export stops as on a full disk, with
   * the file valid at its last complete commit.
   */
  maxFileBytes?: number;
}

export interface ExportProgress {
  /** Transactions applied by this run. */
  transactions: number;
  /** Row inserts and deletes applied by this run. */
  rows: number;
  /** The last tx offset in the file (-1: none). */
  lastOffset: number;
  /** Commit bytes read by this run, and the log's size (segments) when the run started or last polled. */
  bytesRead: number;
  totalBytes: number;
  /** Caught up and waiting for new commits (`follow`). */
  following: boolean;
}

export interface ExportedTable {
  tableId: number;
  name: string;
  sqlTable: string;
  tableType: string;
  /** Whether the table holds a view's rows (an `st_view` row names it). */
  isView: boolean;
  rows: number;
  inserts: number;
  deletes: number;
  /** Deletes of rows that were never live (bootstrap rows). */
  deletesAbsent: number;
  truncates: number;
}

export interface ExportResult {
  file: string;
  /** Transactions applied by this run (a re-run applies only new ones). */
  transactions: number;
  /** The last tx offset in the file (-1: none). */
  lastOffset: number;
  /** The offset the file held before this run, or null for a new file. */
  resumedFrom: number | null;
  tables: ExportedTable[];
  reducers: Record<string, number>;
  /**
   * The log's last commit, damaged or cut short (a torn write), was left out, as the library's folds
   * do: why. Null when every commit read was whole.
   */
  skippedTail: string | null;
}

interface Position {
  txOffset: number;
  commitOffset: number;
  commitChecksum: number;
}

interface TableStats {
  inserts: number;
  deletes: number;
  deletesAbsent: number;
  truncates: number;
}

const META_IDS = [ST_TABLE_ID, ST_COLUMN_ID, ST_VIEW_ID];

/** The damage that stopped an export, with where the file stands. */
export class ExportStoppedError extends CommitlogError {
  constructor(
    readonly lastOffset: number,
    cause: Error,
  ) {
    super(
      cause instanceof CommitlogError ? cause.code : ErrorCodes.EXPORT_WRITE,
      `${messageOf(cause)} (the SQLite file holds ${lastOffset < 0 ? 'no transaction yet' : `every transaction up to ${lastOffset}`}; a re-run continues from there)`,
      { cause },
    );
  }
}

export async function exportSqlite(source: LogSource, file: string, options: ExportOptions = {}): Promise<ExportResult> {
  if (typeof source === 'string' && !fs.statSync(source, { throwIfNoEntry: false })?.isDirectory()) {
    throw new NotFoundError(`no such log directory: ${source}`);
  }
  if (options.at !== undefined && (!Number.isSafeInteger(options.at) || options.at < 0)) {
    throw new InvalidInputError(`at must be a non-negative safe integer, got ${String(options.at)}`);
  }
  const repo = toRepo(source);
  if (repo.existingOffsets().length === 0 && !options.follow) {
    throw new InvalidInputError(`no commitlog segments (*.stdb.log) in ${String(source)}`);
  }
  const db = openDb(file, options.maxFileBytes);
  try {
    return (await run(db, repo, file, options)).result;
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.close();
  }
}

/** SQLite's page cache per export: inside the 300 MB the export is meant to stay in. */
const CACHE_KIB = 64 * 1024;

function openDb(file: string, maxFileBytes?: number): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Deletes are matched through an index over row keys inserted in no particular order: a page cache
    // that holds the hot part of it is what keeps that fast (SQLite's default is 2 MiB).
    db.pragma(`cache_size = -${CACHE_KIB}`);
    if (maxFileBytes !== undefined) {
      const page = Number(db.pragma('page_size', { simple: true }));
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxFileBytes / page))}`);
    }
  } catch (e) {
    db.close();
    throw e;
  }
  db.defaultSafeIntegers(true);
  return db;
}

/**
 * A replay whose rows live in a SQLite file, readable table by table with bounded memory (`clog tables`
 * and `clog rows`). Without `file`, a temporary file that `close()` removes.
 */
export class SqliteReplay {
  private constructor(
    readonly result: ExportResult,
    private readonly db: Database.Database,
    private readonly store: SqliteRowStore,
    private readonly visitor: ReplayVisitor,
    private readonly temp: string | null,
  ) {}

  static async open(source: LogSource, options: ExportOptions & { file?: string } = {}): Promise<SqliteReplay> {
    let temp: string | null = null;
    let file = options.file;
    if (file === undefined) {
      temp = fs.mkdtempSync(path.join(os.tmpdir(), 'stdb-replay-'));
      file = path.join(temp, 'replay.sqlite');
    }
    if (typeof source === 'string' && !fs.statSync(source, { throwIfNoEntry: false })?.isDirectory()) {
      throw new NotFoundError(`no such log directory: ${source}`);
    }
    const db = openDb(file, options.maxFileBytes);
    try {
      const { result, store, visitor } = await run(db, toRepo(source), file, options);
      return new SqliteReplay(result, db, store, visitor, temp);
    } catch (e) {
      db.close();
      if (temp) fs.rmSync(temp, { recursive: true, force: true });
      // A temporary file is nobody's concern: report the damage without what the file holds.
      if (temp && e instanceof ExportStoppedError && e.cause instanceof Error) throw e.cause;
      throw e;
    }
  }

  /** The columns a table's rows decode with now (empty when the log describes it too poorly). */
  columnsOf(tableId: number): TableSchema['columns'] {
    try {
      return this.visitor.registry.schema(tableId).columns;
    } catch {
      return [];
    }
  }

  /** A table's live rows, oldest first, decoded from their stored BSATN. */
  *rows(tableId: number): IterableIterator<Row> {
    const t = this.result.tables.find((x) => x.tableId === tableId);
    if (!t) return;
    const schema = this.visitor.registry.schema(tableId);
    for (const bsatn of this.store.storedRows(t.sqlTable)) yield schema.codec.decode(new BinaryReader(bsatn));
  }

  /**
   * One stored row (the `_stdb_bsatn` of a table's SQL table, read by a paged query of the caller's
   * own) decoded with the table's current schema: lets a reader page through `result.file` without
   * iterating every row (`clog ui`).
   */
  decodeStored(tableId: number, bsatn: Uint8Array): Row {
    return this.visitor.registry.schema(tableId).codec.decode(new BinaryReader(bsatn));
  }

  close(): void {
    this.db.close();
    if (this.temp) fs.rmSync(this.temp, { recursive: true, force: true });
  }
}

async function run(
  db: Database.Database,
  repo: ReturnType<typeof toRepo>,
  file: string,
  options: ExportOptions,
): Promise<{
  result: ExportResult;
  store: SqliteRowStore;
  visitor: ReplayVisitor;
}> {
  const store = new SqliteRowStore(db);
  const visitor = new ReplayVisitor({
    version: options.version ?? 'all',
    keep: 'meta',
    store,
  });
  const pos = readPosition(store);
  const resumedFrom = pos ? pos.txOffset : null;
  if (pos) restore(store, visitor);
  if (pos && options.at !== undefined && options.at < pos.txOffset) {
    throw new InvalidInputError(
      `${file} already holds transactions up to ${pos.txOffset}, past --at ${options.at}; export into a new file`,
    );
  }
  let position: Position = pos ?? {
    txOffset: -1,
    commitOffset: -1,
    commitChecksum: 0,
  };
  /** What the file holds: the position of the last SQLite transaction that committed. */
  let committed = position.txOffset;
  let applied = 0;
  let bytesRead = 0;
  const batchLimit = options.batchBytes ?? 16 * 1024 * 1024;
  let rowsBefore = 0;
  for (const t of visitor.tables.values()) rowsBefore += t.inserts + t.deletes;
  const rowsApplied = () => {
    let n = -rowsBefore;
    for (const t of visitor.tables.values()) n += t.inserts + t.deletes;
    return n;
  };
  const progress = (following: boolean) =>
    options.onProgress?.({
      transactions: applied,
      rows: rowsApplied(),
      lastOffset: position.txOffset,
      bytesRead,
      totalBytes: logBytes(repo),
      following,
    });

  const writePosition = () => {
    store.setMetaValue('tx_offset', String(position.txOffset));
    store.setMetaValue('commit_offset', String(position.commitOffset));
    store.setMetaValue('commit_checksum', String(position.commitChecksum));
    store.setMetaValue('segments', JSON.stringify(repo.existingOffsets()));
    store.setMetaValue('reducers', JSON.stringify(Object.fromEntries(visitor.reducers)));
    const stats: Record<string, TableStats> = {};
    for (const [id, t] of visitor.tables) {
      stats[id] = {
        inserts: t.inserts,
        deletes: t.deletes,
        deletesAbsent: t.deletesAbsent,
        truncates: t.truncates,
      };
    }
    store.setMetaValue('stats', JSON.stringify(stats));
    store.setMetaValue('updated_at', new Date().toISOString());
  };

  let skippedTail: string | null = null;
  /** Applies what the log holds after `position`; true once `at` is reached. */
  const applyAvailable = async (batchBytes: number): Promise<boolean> => {
    checkPosition(repo, position, file);
    skippedTail = null;
    const it = commitIterator(repo, position.txOffset + 1);
    let inBatch = 0;
    const commitBatch = () => {
      if (!db.inTransaction) return;
      writePosition();
      db.exec('COMMIT');
      committed = position.txOffset;
      inBatch = 0;
    };
    try {
      for (;;) {
        const item = it.step();
        if (item === null) break;
        if (item instanceof TraversalError) {
          // A bad last commit is a torn write (or one still being written, when following).
          if (it.step() === null) {
            skippedTail = item.message;
            break;
          }
          throw item;
        }
        const c: StoredCommit = item;
        if (c.minTxOffset + c.n - 1 <= position.txOffset) continue;
        if (!db.inTransaction) db.exec('BEGIN IMMEDIATE');
        const done = applyCommit(visitor, c, it.logFormatVersion, position.txOffset, options.at);
        if (done.last > position.txOffset) {
          applied += done.last - Math.max(position.txOffset, c.minTxOffset - 1);
          position = {
            txOffset: done.last,
            commitOffset: c.minTxOffset,
            commitChecksum: c.checksum,
          };
        }
        bytesRead += 26 + c.records.length;
        inBatch += 26 + c.records.length;
        if (done.reachedAt) {
          commitBatch();
          return true;
        }
        if (inBatch >= batchBytes) {
          commitBatch();
          progress(false);
          await new Promise((r) => setImmediate(r));
          if (options.signal?.aborted) return true;
        }
      }
      commitBatch();
      return options.at !== undefined && position.txOffset >= options.at;
    } catch (e) {
      // The batch is undone, the failing commit's part of it too: the file holds `committed`.
      // `position` is the last commit applied whole before the failure.
      if (db.inTransaction) db.exec('ROLLBACK');
      throw new BatchFailed(e, committed, position.txOffset);
    } finally {
      it.release();
    }
  };

  try {
    let reachedAt = await applyAvailable(batchLimit);
    progress(false);
    if (options.follow && !reachedAt) {
      const poll = options.pollMs ?? 500;
      while (!options.signal?.aborted && !reachedAt) {
        progress(true);
        await sleep(poll, options.signal);
        if (options.signal?.aborted) break;
        reachedAt = await applyAvailable(0); // one commit per SQLite transaction while live
      }
    }
  } catch (e) {
    if (!(e instanceof BatchFailed)) throw e;
    let holds = e.committed;
    if (!isWriteError(e.cause) && e.appliedWhole > e.committed) {
      // Keep every commit before the failing one: apply them again (fresh in-memory state from the
      // file), this time stopping before it.
      await run(db, repo, file, {
        ...options,
        at: e.appliedWhole,
        follow: false,
        onProgress: undefined,
      });
      holds = e.appliedWhole;
    }
    throw asExportError(e.cause, holds, file);
  }
  if (!db.inTransaction) {
    db.exec('BEGIN IMMEDIATE');
    writePosition();
    db.exec('COMMIT');
  }
  const result: ExportResult = {
    file,
    transactions: applied,
    lastOffset: position.txOffset,
    resumedFrom,
    tables: exportedTables(db, store, visitor),
    reducers: Object.fromEntries(visitor.reducers),
    skippedTail,
  };
  return { result, store, visitor };
}

/**
 * One commit: its transactions after `last`, up to `at`. No savepoint around it (one per commit made
 * the export 2× slower: each one journals every index page it touches); a failure undoes the whole
 * batch instead, and `run` applies the commits before the failing one again.
 */
function applyCommit(
  visitor: ReplayVisitor,
  c: StoredCommit,
  version: number,
  last: number,
  at: number | undefined,
): { last: number; reachedAt: boolean } {
  const reader = new BufReader(c.records);
  let applied = last;
  let k = 0;
  for (; k < c.n; k++) {
    const offset = c.minTxOffset + k;
    if (at !== undefined && offset > at) break;
    try {
      if (offset <= last) skipRecordFn(visitor, version, reader);
      else {
        consumeRecordFn(visitor, version, offset, reader);
        applied = offset;
      }
    } catch (e) {
      throw wrapReplayError(e, offset);
    }
  }
  if (k === c.n && reader.remaining !== 0) {
    throw leftOverError(c, reader.remaining);
  }
  return { last: applied, reachedAt: at !== undefined && applied >= at };
}

/** A batch that failed: what the file holds, and the last offset applied whole before the failure. */
class BatchFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly committed: number,
    readonly appliedWhole: number,
  ) {
    super('export batch failed');
  }
}

function isWriteError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR'));
}

function readPosition(store: SqliteRowStore): Position | null {
  const tx = store.meta('tx_offset');
  if (tx === undefined || Number(tx) < 0) return null;
  return {
    txOffset: Number(tx),
    commitOffset: Number(store.meta('commit_offset')),
    commitChecksum: Number(store.meta('commit_checksum')),
  };
}

/** The recorded commit must still be in the log, with the same checksum: a reset or another log is refused. */
function checkPosition(repo: ReturnType<typeof toRepo>, pos: Position, file: string): void {
  if (pos.txOffset < 0) return;
  const it = commitIterator(repo, pos.commitOffset);
  try {
    const first = it.step();
    const ok =
      first !== null &&
      !(first instanceof TraversalError) &&
      first.minTxOffset === pos.commitOffset &&
      first.checksum === pos.commitChecksum;
    if (!ok) {
      const found =
        first === null
          ? 'the log ends before it'
          : first instanceof TraversalError
            ? `reading it failed: ${first.message}`
            : `the log has commit ${first.minTxOffset} with checksum 0x${first.checksum.toString(16).padStart(8, '0')} there`;
      throw new ExportError(
        ErrorCodes.EXPORT_MISMATCH,
        `${file} was exported up to tx ${pos.txOffset} from a commit at ${pos.commitOffset} with checksum 0x${pos.commitChecksum.toString(16).padStart(8, '0')}, but ${found}: ` +
          'the log was reset or is another log; export into a new file',
      );
    }
  } finally {
    it.release();
  }
}

/** An earlier run's state: the schema tables back in memory, names, counts and reducers. */
function restore(store: SqliteRowStore, visitor: ReplayVisitor): void {
  const tables = store.loadTables();
  for (const t of tables) visitor.names.set(t.tableId, t.name);
  for (const id of META_IDS) {
    const t = tables.find((x) => x.tableId === id);
    if (!t) continue;
    const schema = visitor.registry.schema(id);
    for (const bsatn of store.storedRows(t.sqlName)) {
      const reader = new BinaryReader(bsatn);
      visitor.restoreRow(id, bsatn, schema.codec.decode(reader));
    }
  }
  const stats = JSON.parse(store.meta('stats') ?? '{}') as Record<string, TableStats>;
  const counts = store.rowCountsOf(tables.map((t) => ({ tableId: t.tableId, sqlName: t.sqlName })));
  for (const [id, s] of Object.entries(stats)) {
    const t = visitor.table(Number(id));
    t.inserts = s.inserts;
    t.deletes = s.deletes;
    t.deletesAbsent = s.deletesAbsent;
    t.truncates = s.truncates;
    t.size = counts.get(Number(id)) ?? 0;
  }
  for (const [name, n] of Object.entries(JSON.parse(store.meta('reducers') ?? '{}') as Record<string, number>)) {
    visitor.reducers.set(name, n);
  }
}

/**
 * The tables of the replay, as `replay()` lists them: every table a mutation touched and every user
 * table `st_table` declares (an empty SQL table is created for those without rows).
 */
function exportedTables(db: Database.Database, store: SqliteRowStore, visitor: ReplayVisitor): ExportedTable[] {
  const ids = new Set(visitor.tables.keys());
  for (const [id, decl] of visitor.registry.declaredTables()) {
    if (decl.tableType === 'user' && !visitor.registry.isSystemTable(id)) ids.add(id);
  }
  const views = new Set<number>();
  for (const r of visitor.tables.get(ST_VIEW_ID)?.liveRows() ?? []) views.add(Number(r.table_id));
  const out: ExportedTable[] = [];
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const tableId of [...ids].sort((a, b) => a - b)) {
      const live = visitor.tables.get(tableId);
      let name = visitor.names.get(tableId);
      let tableType = visitor.registry.isSystemTable(tableId) ? 'system' : (visitor.registry.declared(tableId)?.tableType ?? 'unknown');
      let sqlTable = store.sqlNameOf(tableId) ?? store.storedSqlName(tableId);
      try {
        const schema = visitor.registry.schema(tableId);
        name = schema.name;
        tableType = schema.tableType;
        sqlTable ??= store.ensure(schema);
      } catch (e) {
        if (e instanceof ExportError) throw e;
        // declared without usable columns, or dropped since: listed with what was seen
      }
      const rows = sqlTable === undefined ? 0 : store.countRows(sqlTable);
      out.push({
        tableId,
        name: name ?? `#${tableId}`,
        sqlTable: sqlTable ?? '',
        tableType,
        isView: views.has(tableId),
        rows,
        inserts: live?.inserts ?? 0,
        deletes: live?.deletes ?? 0,
        deletesAbsent: live?.deletesAbsent ?? 0,
        truncates: live?.truncates ?? 0,
      });
    }
    db.exec('COMMIT');
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
  }
  return out;
}

function asExportError(e: unknown, lastOffset: number, file: string): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  if (isWriteError(err)) {
    return new ExportStoppedError(
      lastOffset,
      new ExportError(
        ErrorCodes.EXPORT_WRITE,
        `writing ${file} failed (${String(code)}${code === 'SQLITE_FULL' ? ': the disk is full' : ''})`,
        { cause: err },
      ),
    );
  }
  if (err instanceof ExportError && err.code === ErrorCodes.EXPORT_MISMATCH) return err;
  return new ExportStoppedError(lastOffset, err);
}

/** Bytes of the log's segments (index files left out: they are not read). */
function logBytes(repo: ReturnType<typeof toRepo>): number {
  let total = 0;
  for (const o of repo.existingOffsets()) {
    try {
      const f = repo.openSegmentReader(o);
      try {
        total += f.size();
      } finally {
        f.close();
      }
    } catch {
      // a segment removed meanwhile
    }
  }
  return total;
}
