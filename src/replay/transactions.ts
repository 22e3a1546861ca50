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
import { wrapReplayError } from './errors.js';
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
  /** The reducer's arguments (BSATN) as hex; null without inputs. */
  args: string | null;
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
  range: { from?: number; to?: number } = {},
): Generator<DecodedTransaction, void, undefined> {
  const from = range.from ?? 0;
  const visitor = new ReplayVisitor('all');
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
        if (it.step() === null) return; // a torn last commit, as folds treat it
        throw item;
      }
      const reader = new BufReader(item.records);
      for (let k = 0; k < item.n; k++) {
        const offset = item.minTxOffset + k;
        if (range.to !== undefined && offset > range.to) return;
        let tx;
        try {
          tx = decodeRecordFn(visitor, it.logFormatVersion, offset, reader);
        } catch (e) {
          throw wrapReplayError(e, offset);
        }
        if (offset < from) continue;
        yield {
          offset,
          reducer: tx.inputs?.reducerName ?? null,
          args: tx.inputs ? toHex(tx.inputs.reducerArgs) : null,
          output: tx.outputs?.reducerOutput ?? null,
          inserts: json(tx.mutations?.inserts),
          deletes: json(tx.mutations?.deletes),
          truncates: (tx.mutations?.truncates ?? []).map((tableId) => ({ tableId, table: name(tableId) })),
        };
      }
    }
  } finally {
    it.release();
  }
}
