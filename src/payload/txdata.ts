/**
 * The `Txdata` payload (SPEC §10.3): types, the byte-exact encoder and the visitor-free parts of the
 * decoder (inputs and outputs). Rows are opaque here: the caller supplies their encoder, and the
 * visitor (visitor.ts) decodes them.
 */
import { DecodeError, InvalidInputError } from '../errors.js';
import type { BufReader } from './buf-reader.js';
import type { ByteWriter } from './byte-writer.js';
import type { Encoder } from './decoder.js';
import { VARCHAR_MAX, utf8Decode, utf8Encode, varcharFromStr } from './varchar.js';
import { encodeVarint } from './varint.js';

export const TxdataFlags = {
  HAVE_INPUTS: 0x80,
  HAVE_OUTPUTS: 0x40,
  HAVE_MUTATIONS: 0x20,
} as const;

/** A table id is a u32. */
export type TableId = number;

/** The reducer call: its name (`Varchar<255>`) and its BSATN-encoded arguments, kept opaque. */
export interface Inputs {
  reducerName: string;
  reducerArgs: Uint8Array;
}

/** The reducer's error message (`Varchar<255>`). */
export interface Outputs {
  reducerOutput: string;
}

/** Rows inserted into or deleted from one table. */
export interface Ops<Row> {
  tableId: TableId;
  rowdata: Row[];
}

export interface Mutations<Row> {
  inserts: Ops<Row>[];
  deletes: Ops<Row>[];
  truncates: TableId[];
}

/** Each section is optional; absent (`undefined` or `null`) sections are not written. Decoding omits them. */
export interface Txdata<Row> {
  inputs?: Inputs | null;
  outputs?: Outputs | null;
  mutations?: Mutations<Row> | null;
}

export type RowEncoder<Row> = (row: Row, out: ByteWriter) => void;

const U32_MAX = 0xffff_ffff;

/** No inputs, no outputs, and mutations absent or with all three lists empty. */
export function isEmpty<Row>(txdata: Txdata<Row>): boolean {
  const m = txdata.mutations;
  return (
    txdata.inputs == null &&
    txdata.outputs == null &&
    (m == null || (m.inserts.length === 0 && m.deletes.length === 0 && m.truncates.length === 0))
  );
}

function checkTableId(tableId: TableId): void {
  if (!Number.isInteger(tableId) || tableId < 0 || tableId > U32_MAX) {
    throw new InvalidInputError(`table id must be a u32, got ${tableId}`);
  }
}

/** Validates and UTF-8-encodes a `Varchar<255>` field. */
function varcharBytes(s: string): Uint8Array {
  return utf8Encode(varcharFromStr(s, VARCHAR_MAX));
}

export function encodeInputs(inputs: Inputs, out: ByteWriter): void {
  const name = varcharBytes(inputs.reducerName);
  const len = 1 + name.length + inputs.reducerArgs.length;
  // The reference casts with `as u32`; a silent wrap would write an unreadable record.
  if (len > U32_MAX) throw new InvalidInputError(`reducer args too long: inputs length ${len} exceeds u32`);
  out.writeU32(len);
  out.writeU8(name.length);
  out.write(name);
  out.write(inputs.reducerArgs);
}

export function encodeOutputs(outputs: Outputs, out: ByteWriter): void {
  const text = varcharBytes(outputs.reducerOutput);
  out.writeU8(text.length);
  out.write(text);
}

function encodeOps<Row>(ops: Ops<Row>[], encodeRow: RowEncoder<Row>, out: ByteWriter): void {
  encodeVarint(ops.length, out);
  for (const op of ops) {
    checkTableId(op.tableId);
    out.writeU32(op.tableId);
    encodeVarint(op.rowdata.length, out);
    for (const row of op.rowdata) encodeRow(row, out);
  }
}

/** Lists are written in the given order (ordering by table id is the caller's job, §10.3). */
export function encodeMutations<Row>(mutations: Mutations<Row>, encodeRow: RowEncoder<Row>, out: ByteWriter): void {
  encodeOps(mutations.inserts, encodeRow, out);
  encodeOps(mutations.deletes, encodeRow, out);
  encodeVarint(mutations.truncates.length, out);
  for (const tableId of mutations.truncates) {
    checkTableId(tableId);
    out.writeU32(tableId);
  }
}

/**
 * Appends the encoding of `txdata` to `out`. On error (an invalid field, a throwing `encodeRow`) `out`
 * is rolled back to its length on entry, so a half-written record never reaches a pending commit.
 */
export function encodeTxdata<Row>(txdata: Txdata<Row>, encodeRow: RowEncoder<Row>, out: ByteWriter): void {
  const start = out.length;
  try {
    let flags = 0;
    if (txdata.inputs != null) flags |= TxdataFlags.HAVE_INPUTS;
    if (txdata.outputs != null) flags |= TxdataFlags.HAVE_OUTPUTS;
    if (txdata.mutations != null) flags |= TxdataFlags.HAVE_MUTATIONS;
    out.writeU8(flags);
    if (txdata.inputs != null) encodeInputs(txdata.inputs, out);
    if (txdata.outputs != null) encodeOutputs(txdata.outputs, out);
    if (txdata.mutations != null) encodeMutations(txdata.mutations, encodeRow, out);
  } catch (e) {
    out.length = start;
    throw e;
  }
}

/** An `Encoder` for `Commitlog.open(dir, options, txdataEncoder(encodeRow))` / `GenericLog.open`. */
export function txdataEncoder<Row>(encodeRow: RowEncoder<Row>): Encoder<Txdata<Row>> {
  return {
    encodeRecord(record, out) {
      encodeTxdata(record, encodeRow, out);
    },
  };
}

export function decodeInputs(reader: BufReader): Inputs {
  const len = reader.getU32();
  const slen = reader.getU8();
  const reducerName = utf8Decode(reader.getSlice(slen), 'reducer name');
  // 1.3.0 computes `len - 1 - slen` unchecked (a wrap in release builds, then a failed read).
  if (len < 1 + slen) throw DecodeError.bufferLength('Inputs.reducerArgs', 1 + slen, len);
  const reducerArgs = reader.getArray(len - 1 - slen);
  return { reducerName, reducerArgs };
}

export function decodeOutputs(reader: BufReader): Outputs {
  const slen = reader.getU8();
  return { reducerOutput: utf8Decode(reader.getSlice(slen), 'reducer output') };
}
