/**
 * The transactions of a SpacetimeDB log, decoded: reducer, outputs and the rows each one inserted and
 * deleted, per table, as JSON-ready values (`clog dump --txdata`). Row schemas come from the system
 * tables, so the log is always replayed from its first transaction, and transactions outside
 * `[from, to]` are decoded but not yielded.
 */
import { TraversalError } from '../errors.js';
import { type LogSource, commitIterator } from '../log/free.js';
import { BufReader } from '../payload/buf-reader.js';
import type { Ops } from '../payload/txdata.js';
import { decodeRecordFn } from '../payload/visitor.js';
import { decodeCaller, reducerOwnArgs } from './caller.js';
import { leftOverError, wrapReplayError } from './errors.js';
import { type Json, rowToJson, toHex } from './json.js';
import type { Row } from './stdb.js';
import { ReplayVisitor } from './visitor.js';

export interface DecodedTableOps {
  tableId: number;
  table: string;
  rows: Json[];
}

export interface DecodedTransaction {
  offset: number;
  reducer: string | null;
  /** Who called the reducer (identity hex), from which connection (hex), when (ISO); null without inputs. */
  caller: string | null;
  connectionId: string | null;
  timestamp: string | null;
  /**
   * The reducer's own arguments (after the caller prefix) as BSATN hex: the log does not carry the
   * reducers' parameter types (they are in the module's code), so they cannot be decoded from it.
   * Null without inputs; all the input bytes when they are too short to hold a caller.
   */
  argsHex: string | null;
  /** The reducer's error message, if it failed. */
  output: string | null;
  inserts: DecodedTableOps[];
  deletes: DecodedTableOps[];
  truncates: { tableId: number; table: string }[];
}

/** Anything the schema cannot name is still printable: bigints as strings, bytes as hex. */
function plain(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value as Json;
}

export function* decodedTransactions(
  source: LogSource,
  range: {
    from?: number;
    to?: number;
    /** Called when the log's last commit, damaged or cut short (a torn write), is left out. */
    onSkippedTail?: (e: TraversalError) => void;
  } = {},
): Generator<DecodedTransaction, void, undefined> {
  const from = range.from ?? 0;
  // Only the schema tables stay in memory: rows are printed, not kept (bounded by the schema, not the data).
  const visitor = new ReplayVisitor({ version: 'all', keep: 'meta' });
  const name = (tableId: number): string => {
    try {
      return visitor.registry.schema(tableId).name;
    } catch {
      return visitor.names.get(tableId) ?? `#${tableId}`;
    }
  };
  const json = (ops: Ops<Row>[] | undefined): DecodedTableOps[] =>
    (ops ?? []).map((op) => {
      let rows: Json[];
      try {
        const { columns } = visitor.registry.schema(op.tableId);
        rows = op.rowdata.map((r) => rowToJson(r, columns));
      } catch {
        rows = op.rowdata.map(plain);
      }
      return { tableId: op.tableId, table: name(op.tableId), rows };
    });
  const it = commitIterator(source, 0);
  try {
    for (;;) {
      const item = it.step();
      if (item === null) return;
      if (item instanceof TraversalError) {
        if (it.step() === null) {
          // a torn last commit, as folds treat it
          range.onSkippedTail?.(item);
          return;
        }
        throw item;
      }
      const reader = new BufReader(item.records);
      // A commit's transactions are yielded once all of its bytes decoded: records that leave bytes
      // over are not Txdata, and must not be printed as (empty) transactions first.
      const decoded: DecodedTransaction[] = [];
      let past = false;
      for (let k = 0; k < item.n; k++) {
        const offset = item.minTxOffset + k;
        if (range.to !== undefined && offset > range.to) {
          past = true;
          break;
        }
        let tx;
        try {
          tx = decodeRecordFn(visitor, it.logFormatVersion, offset, reader);
        } catch (e) {
          throw wrapReplayError(e, offset);
        }
        if (offset < from) continue;
        const caller = tx.inputs ? decodeCaller(tx.inputs) : null;
        decoded.push({
          offset,
          reducer: tx.inputs?.reducerName ?? null,
          caller: caller?.caller ?? null,
          connectionId: caller?.connectionId ?? null,
          timestamp: caller?.timestamp ?? null,
          argsHex: tx.inputs ? toHex(reducerOwnArgs(tx.inputs)) : null,
          output: tx.outputs?.reducerOutput ?? null,
          inserts: json(tx.mutations?.inserts),
          deletes: json(tx.mutations?.deletes),
          truncates: (tx.mutations?.truncates ?? []).map((tableId) => ({ tableId, table: name(tableId) })),
        });
      }
      if (!past && reader.remaining !== 0) throw leftOverError(item, reader.remaining);
      yield* decoded;
      if (past) return;
    }
  } finally {
    it.release();
  }
}
