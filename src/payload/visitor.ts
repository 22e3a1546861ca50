/**
 * Decoding `Txdata` with a visitor (SPEC §10.4): the visitor knows the table schemas and decodes rows;
 * this module walks the structure around them in one of three modes (decode, consume, skip) and
 * provides `txdataDecoder(visitor)`, a `Decoder` for `transactions`/`foldTransactions`.
 */
import { DEFAULT_LOG_FORMAT_VERSION } from '../codec/segment-header.js';
import { DecodeError } from '../errors.js';
import type { BufReader } from './buf-reader.js';
import type { Decoder } from './decoder.js';
import { TxdataDecoderError } from './errors.js';
import {
  type Inputs,
  type Mutations,
  type Ops,
  type Outputs,
  type TableId,
  type Txdata,
  TxdataFlags,
  decodeInputs,
  decodeOutputs,
} from './txdata.js';
import { decodeVarint } from './varint.js';

/** The highest log format version whose records this decoder reads (Rust `Txdata::VERSION`). */
export const TXDATA_VERSION = DEFAULT_LOG_FORMAT_VERSION;

/**
 * Row methods are required: rows carry no length prefix, so only the visitor can find where one ends.
 * The others default to no-ops. Each row method must leave `reader` at the start of the next row.
 */
export interface TxdataVisitor<Row> {
  visitInsert(tableId: TableId, reader: BufReader): Row;
  visitDelete(tableId: TableId, reader: BufReader): Row;
  /** Advances past one row of a record before the start offset; must not use the row. */
  skipRow(tableId: TableId, reader: BufReader): void;
  visitTruncate?(tableId: TableId): void;
  visitTxStart?(offset: number): void;
  visitTxEnd?(): void;
  visitInputs?(inputs: Inputs): void;
  visitOutputs?(outputs: Outputs): void;
}

type Mode = 'decode' | 'consume' | 'skip';

/** Bytes an element takes at least: a count needing more than what is left fails before the loop. */
const MIN_OPS_LEN = 5; // tableId u32 + a one-byte row count
const MIN_TRUNCATE_LEN = 4; // tableId u32

/**
 * A count that the bytes left could hold. Rows may encode to zero bytes, so row counts (`minLen` 0)
 * are only bounded by what a number can count.
 */
function readCount(reader: BufReader, minLen: number, what: string): number {
  const at = reader.pos;
  const n = decodeVarint(reader);
  if (minLen > 0 && Number(n) * minLen > reader.remaining) {
    throw DecodeError.bufferLength(what, Number(n) * minLen, reader.remaining);
  }
  if (typeof n === 'bigint') {
    throw new DecodeError('Other', `${what}: count ${n} at byte ${at} is too large`, { count: n });
  }
  return n;
}

function walkOps<Row>(visitor: TxdataVisitor<Row>, reader: BufReader, mode: Mode, inserts: boolean): Ops<Row>[] {
  const what = inserts ? 'inserts' : 'deletes';
  const result: Ops<Row>[] = [];
  const n = readCount(reader, MIN_OPS_LEN, what);
  for (let i = 0; i < n; i++) {
    const tableId = reader.getU32();
    const m = readCount(reader, 0, `${what} rows`);
    // Pushed one by one, never preallocated from the decoded count.
    const rowdata: Row[] = [];
    for (let j = 0; j < m; j++) {
      if (mode === 'skip') visitor.skipRow(tableId, reader);
      else {
        const row = inserts ? visitor.visitInsert(tableId, reader) : visitor.visitDelete(tableId, reader);
        if (mode === 'decode') rowdata.push(row);
      }
    }
    if (mode === 'decode') result.push({ tableId, rowdata });
  }
  return result;
}

function walkMutations<Row>(visitor: TxdataVisitor<Row>, reader: BufReader, mode: Mode): Mutations<Row> {
  const inserts = walkOps(visitor, reader, mode, true);
  const deletes = walkOps(visitor, reader, mode, false);
  const truncates: TableId[] = [];
  const n = readCount(reader, MIN_TRUNCATE_LEN, 'truncates');
  for (let i = 0; i < n; i++) {
    const tableId = reader.getU32();
    if (mode === 'skip') continue;
    visitor.visitTruncate?.(tableId);
    if (mode === 'decode') truncates.push(tableId);
  }
  return { inserts, deletes, truncates };
}

/** Reads one `Txdata`; inputs/outputs are visited except in skip mode. Nothing is wrapped here. */
function walkTxdata<Row>(visitor: TxdataVisitor<Row>, reader: BufReader, mode: Mode): Txdata<Row> {
  // Reserved bits 0x1f are ignored, like the reference's `from_bits_retain`.
  const flags = reader.getU8();
  const txdata: Txdata<Row> = {};
  if (flags & TxdataFlags.HAVE_INPUTS) {
    const inputs = decodeInputs(reader);
    if (mode !== 'skip') visitor.visitInputs?.(inputs);
    txdata.inputs = inputs;
  }
  if (flags & TxdataFlags.HAVE_OUTPUTS) {
    const outputs = decodeOutputs(reader);
    if (mode !== 'skip') visitor.visitOutputs?.(outputs);
    txdata.outputs = outputs;
  }
  if (flags & TxdataFlags.HAVE_MUTATIONS) txdata.mutations = walkMutations(visitor, reader, mode);
  return txdata;
}

/** Rust `Txdata::decode`: no version check, no tx start/end, errors unwrapped. */
export function decodeTxdata<Row>(visitor: TxdataVisitor<Row>, reader: BufReader): Txdata<Row> {
  return walkTxdata(visitor, reader, 'decode');
}

/** Rust `Mutations::decode`. */
export function decodeMutations<Row>(visitor: TxdataVisitor<Row>, reader: BufReader): Mutations<Row> {
  return walkMutations(visitor, reader, 'decode');
}

function checkVersion(version: number): void {
  if (version > TXDATA_VERSION) throw TxdataDecoderError.unsupportedVersion(TXDATA_VERSION, version);
}

function processRecord<Row>(
  visitor: TxdataVisitor<Row>,
  version: number,
  txOffset: number,
  reader: BufReader,
  mode: 'decode' | 'consume',
): Txdata<Row> {
  checkVersion(version);
  try {
    visitor.visitTxStart?.(txOffset);
    const txdata = walkTxdata(visitor, reader, mode);
    visitor.visitTxEnd?.();
    return txdata;
  } catch (e) {
    throw TxdataDecoderError.visitor(e);
  }
}

/** Decodes one record, driving `visitor`; every failure is a `TxdataDecoderError`. */
export function decodeRecordFn<Row>(
  visitor: TxdataVisitor<Row>,
  version: number,
  txOffset: number,
  reader: BufReader,
): Txdata<Row> {
  return processRecord(visitor, version, txOffset, reader, 'decode');
}

/** Like `decodeRecordFn` with the same visitor calls, but collects no rows (for folds). */
export function consumeRecordFn<Row>(
  visitor: TxdataVisitor<Row>,
  version: number,
  txOffset: number,
  reader: BufReader,
): void {
  processRecord(visitor, version, txOffset, reader, 'consume');
}

/** Advances past one record: rows go to `skipRow`; no tx start/end, inputs, outputs or truncates are visited. */
export function skipRecordFn<Row>(visitor: TxdataVisitor<Row>, version: number, reader: BufReader): void {
  checkVersion(version);
  try {
    walkTxdata(visitor, reader, 'skip');
  } catch (e) {
    throw TxdataDecoderError.visitor(e);
  }
}

/** A `Decoder<Txdata<Row>>` over `visitor`, for `transactions(…)` and `foldTransactions(…)`. */
export function txdataDecoder<Row>(visitor: TxdataVisitor<Row>): Decoder<Txdata<Row>> {
  return {
    decodeRecord: (version, txOffset, reader) => decodeRecordFn(visitor, version, txOffset, reader),
    consumeRecord: (version, txOffset, reader) => consumeRecordFn(visitor, version, txOffset, reader),
    skipRecord: (version, _txOffset, reader) => skipRecordFn(visitor, version, reader),
  };
}
