/**
 * The row change stream of a SpacetimeDB log (issue 15): every insert and delete in log order, decoded
 * with the schema the log describes at that point, as JSON-ready events. Memory holds the schema
 * tables and one transaction's events, not the database: rows are not kept.
 */
import * as fs from 'node:fs';
import type { StoredCommit } from '../codec/commit.js';
import { InvalidInputError, NotFoundError, TraversalError } from '../errors.js';
import { type LogSource, commitIterator, toRepo } from '../log/free.js';
import { BufReader } from '../payload/buf-reader.js';
import type { Inputs } from '../payload/txdata.js';
import { consumeRecordFn } from '../payload/visitor.js';
import { leftOverError, wrapReplayError } from '../replay/errors.js';
import { type Json, rowToJson } from '../replay/json.js';
import { type RowText, rowTextSerializer } from '../replay/json-text.js';
import type { TableSchema } from '../replay/schema.js';
import { decodeCaller } from '../replay/caller.js';
import type { Row } from '../replay/stdb.js';
import type { MajorVersion } from '../replay/system-tables.js';
import { ReplayVisitor } from '../replay/visitor.js';
import { JsonOut } from '../replay/bsatn-json.js';
import { sleep } from './sleep.js';

export interface ChangesOptions {
  /** First tx offset whose changes are yielded (default 0); earlier ones are replayed for their schema only. */
  from?: number;
  /** Last tx offset whose changes are yielded (inclusive; default: the end of the log). */
  to?: number;
  /** Only the changes of this table (name, or table id). */
  table?: string | number;
  /** Keep yielding as the log grows (`changes` only), until `signal` aborts. */
  follow?: boolean;
  pollMs?: number;
  signal?: AbortSignal;
  version?: MajorVersion | 'all';
  /** Called when the log's last commit, damaged or cut short (a torn write), is left out (not when following). */
  onSkippedTail?: (e: TraversalError) => void;
}

/** One row change. `reducer`, `caller`, `connectionId` and `timestamp` are there when the log has inputs. */
export interface RowChange {
  txOffset: number;
  tableId: number;
  table: string;
  op: 'insert' | 'delete';
  row: { [k: string]: Json };
  reducer?: string;
  caller?: string;
  connectionId?: string;
  timestamp?: string;
}

/** Debezium's envelope for the same change (`op` `c` for an insert, `d` for a delete). */
export interface DebeziumChange {
  before: { [k: string]: Json } | null;
  after: { [k: string]: Json } | null;
  op: 'c' | 'd';
  source: {
    connector: 'stdb-commitlog';
    txOffset: number;
    tableId: number;
    table: string;
    reducer?: string;
    caller?: string;
    connectionId?: string;
  };
  ts_us?: string;
}

export function toDebezium(c: RowChange): DebeziumChange {
  const source: DebeziumChange['source'] = {
    connector: 'stdb-commitlog',
    txOffset: c.txOffset,
    tableId: c.tableId,
    table: c.table,
  };
  if (c.reducer !== undefined) source.reducer = c.reducer;
  if (c.caller !== undefined) source.caller = c.caller;
  if (c.connectionId !== undefined) source.connectionId = c.connectionId;
  const out: DebeziumChange = {
    before: c.op === 'delete' ? c.row : null,
    after: c.op === 'insert' ? c.row : null,
    op: c.op === 'insert' ? 'c' : 'd',
    source,
  };
  if (c.timestamp !== undefined) out.ts_us = c.timestamp;
  return out;
}

export { decodeCaller } from '../replay/caller.js';

/**
 * The changes of a log as JSON lines, in chunks of whole lines (each ending in a newline, about
 * 64 KiB): the bytes `clog changes` prints, the same as `JSON.stringify(change)` of each `RowChange`
 * of `changesSync`, written without building the objects.
 */
export function* changeChunksSync(source: LogSource, options: ChangesOptions = {}): Generator<Buffer, void, undefined> {
  const stream = new ChangeStream<Buffer>(source, options, 'bytes');
  yield* stream.drain();
}

/** `changeChunksSync`, following the log like `changes`. */
export async function* changeChunks(source: LogSource, options: ChangesOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const stream = new ChangeStream<Buffer>(source, options, 'bytes');
  for (;;) {
    yield* stream.drain();
    if (!options.follow || stream.finished || options.signal?.aborted) return;
    await sleep(options.pollMs ?? 500, options.signal);
    if (options.signal?.aborted) return;
  }
}

function* linesOf(chunk: Buffer): Generator<string, void, undefined> {
  const text = chunk.toString('utf8');
  for (let at = 0; at < text.length; ) {
    const nl = text.indexOf('\n', at);
    yield text.slice(at, nl);
    at = nl + 1;
  }
}

/** The lines of `changeChunksSync` one by one, without their newline. */
export function* changeLinesSync(source: LogSource, options: ChangesOptions = {}): Generator<string, void, undefined> {
  for (const chunk of changeChunksSync(source, options)) yield* linesOf(chunk);
}

/** The lines of `changeChunks` one by one, without their newline. */
export async function* changeLines(source: LogSource, options: ChangesOptions = {}): AsyncGenerator<string, void, undefined> {
  for await (const chunk of changeChunks(source, options)) yield* linesOf(chunk);
}

/** The changes of a log, synchronously, to its current end. */
export function* changesSync(source: LogSource, options: ChangesOptions = {}): Generator<RowChange, void, undefined> {
  const stream = new ChangeStream<RowChange>(source, options, 'object');
  yield* stream.drain();
}

/** The changes of a log as an async iterator; with `follow`, it waits for new commits. */
export async function* changes(source: LogSource, options: ChangesOptions = {}): AsyncGenerator<RowChange, void, undefined> {
  const stream = new ChangeStream<RowChange>(source, options, 'object');
  for (;;) {
    yield* stream.drain();
    if (!options.follow || stream.finished || options.signal?.aborted) return;
    await sleep(options.pollMs ?? 500, options.signal);
    if (options.signal?.aborted) return;
  }
}

const TX_OFFSET = Buffer.from('{"txOffset":');

/** Output is handed over once this much is buffered (at a transaction's end). */
const CHUNK_BYTES = 64 * 1024;

class ChangeStream<T extends RowChange | Buffer> {
  private readonly visitor: ReplayVisitor;
  private readonly pending: T[] = [];
  private readonly heads = new WeakMap<TableSchema, { insert: Buffer; delete: Buffer }>();
  private readonly out = new JsonOut();
  /** Where the output of the transaction being read starts (dropped if it fails). */
  private txStart = 0;
  private readonly serializers = new WeakMap<TableSchema, RowText>();
  private tailFor = -1;
  private tail = Buffer.from('}\n');
  private readonly from: number;
  private readonly to: number;
  private readonly repo;
  private offset = -1;
  private inputs: Inputs | null = null;
  private callerOf: ReturnType<typeof decodeCaller> = null;
  /** Past `to`: nothing more will come. */
  finished = false;
  /** The last tx offset fully processed. */
  last = -1;

  constructor(
    source: LogSource,
    private readonly options: ChangesOptions,
    private readonly mode: 'object' | 'bytes',
  ) {
    if (typeof source === 'string' && !fs.statSync(source, { throwIfNoEntry: false })?.isDirectory()) {
      throw new NotFoundError(`no such log directory: ${source}`);
    }
    for (const [k, v] of [
      ['from', options.from],
      ['to', options.to],
    ] as const) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0))
        throw new InvalidInputError(`${k} must be a non-negative safe integer, got ${String(v)}`);
    }
    this.repo = toRepo(source);
    this.from = options.from ?? 0;
    this.to = options.to ?? Number.POSITIVE_INFINITY;
    const table = options.table;
    const wanted = (schema: TableSchema) => table === undefined || schema.name === table || String(schema.tableId) === String(table);
    this.visitor = new ReplayVisitor({
      version: options.version ?? 'all',
      keep: 'meta',
      onInputs: (inputs) => {
        this.inputs = inputs;
        this.callerOf = decodeCaller(inputs);
        this.tailFor = -1;
      },
      ...(mode === 'bytes'
        ? {
            rowJson: {
              out: this.out,
              open: (op: 'insert' | 'delete', schema: TableSchema) => this.offset >= this.from && wanted(schema) && this.open(op, schema),
              close: () => this.close(),
            },
          }
        : {}),
      // In bytes mode, the rows the replay decodes anyway (its schema tables) come here.
      onRow: (op, schema, row: Row) => {
        if (this.offset < this.from || !wanted(schema)) return;
        if (mode === 'bytes') {
          this.open(op, schema);
          this.out.text(this.rowText(schema)(row));
          this.close();
          return;
        }
        const c: RowChange = {
          txOffset: this.offset,
          tableId: schema.tableId,
          table: schema.name,
          op,
          row: rowToJson(row, schema.columns),
        };
        if (this.inputs) {
          c.reducer = this.inputs.reducerName;
          if (this.callerOf) Object.assign(c, this.callerOf);
        }
        this.pending.push(c as T);
      },
    });
  }

  /** The serializer of decoded rows of `schema` (rows the replay decodes anyway). */
  private rowText(schema: TableSchema): RowText {
    let f = this.serializers.get(schema);
    if (!f) this.serializers.set(schema, (f = rowTextSerializer(schema.columns)));
    return f;
  }

  /**
   * Writes the start of a change's line, up to its row: with the row and `close`, the bytes of
   * `JSON.stringify` of the `RowChange` the object mode builds, key order included.
   */
  private open(op: 'insert' | 'delete', schema: TableSchema): true {
    let t = this.heads.get(schema);
    if (!t) {
      const head = `,"tableId":${schema.tableId},"table":${JSON.stringify(schema.name)},"op":`;
      t = { insert: Buffer.from(`${head}"insert","row":`), delete: Buffer.from(`${head}"delete","row":`) };
      this.heads.set(schema, t);
    }
    const out = this.out;
    out.bytes(TX_OFFSET);
    out.uint(this.offset);
    out.bytes(op === 'insert' ? t.insert : t.delete);
    return true;
  }

  /** The rest of the line after the row: the transaction's part, built once per transaction. */
  private close(): void {
    if (this.tailFor !== this.offset) {
      this.tailFor = this.offset;
      let tail = '';
      if (this.inputs) {
        tail += `,"reducer":${JSON.stringify(this.inputs.reducerName)}`;
        const c = this.callerOf;
        if (c) tail += `,"caller":${JSON.stringify(c.caller)},"connectionId":${JSON.stringify(c.connectionId)},"timestamp":${JSON.stringify(c.timestamp)}`;
      }
      // Encoded once per transaction, copied into every line of it.
      this.tail = Buffer.from(tail + '}\n');
    }
    this.out.bytes(this.tail);
  }

  /** Yields the changes of every complete commit after `last` that the log holds now. */
  *drain(): Generator<T, void, undefined> {
    if (this.mode === 'object') return yield* this.drainCommits();
    // Bytes: what the transactions before an error wrote is still handed over, then the error.
    try {
      yield* this.drainCommits();
    } catch (e) {
      this.out.len = this.txStart;
      if (this.out.len > 0) yield this.out.take() as T;
      throw e;
    }
    if (this.out.len > 0) yield this.out.take() as T;
  }

  private *drainCommits(): Generator<T, void, undefined> {
    if (this.finished) return;
    const it = commitIterator(this.repo, this.last + 1);
    try {
      for (;;) {
        const item = it.step();
        if (item === null) return;
        if (item instanceof TraversalError) {
          if (it.step() === null) {
            // a torn (or, when following, still being written) last commit
            if (!this.options.follow) this.options.onSkippedTail?.(item);
            return;
          }
          throw item;
        }
        const c: StoredCommit = item;
        if (c.minTxOffset + c.n - 1 <= this.last) continue;
        const reader = new BufReader(c.records);
        for (let k = 0; k < c.n; k++) {
          const offset = c.minTxOffset + k;
          if (offset > this.to) {
            this.finished = true;
            return;
          }
          this.offset = offset;
          this.inputs = null;
          this.callerOf = null;
          try {
            consumeRecordFn(this.visitor, it.logFormatVersion, offset, reader);
          } catch (e) {
            throw wrapReplayError(e, offset);
          }
          this.last = offset;
          if (this.pending.length > 0) {
            yield* this.pending;
            this.pending.length = 0;
          }
          this.txStart = this.out.len;
          if (this.txStart >= CHUNK_BYTES) {
            yield this.out.take() as T;
            this.txStart = 0;
          }
        }
        if (reader.remaining !== 0) {
          throw leftOverError(c, reader.remaining);
        }
      }
    } finally {
      it.release();
    }
  }
}
