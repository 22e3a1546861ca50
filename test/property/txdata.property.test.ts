/**
 * SPEC §13.5 P1–P4: `Inputs`, `Outputs`, `Mutations` and `Txdata` round trips (the reference's
 * proptests), with rows of type `(u64, String, u32, u32, u32)` all equal to `(42, "kermit", 4, 2, 18)`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufReader, ByteWriter } from '../../src/index.js';
import {
  type Inputs,
  type Mutations,
  type Ops,
  type Outputs,
  type Txdata,
  decodeInputs,
  decodeMutations,
  decodeOutputs,
  decodeRecordFn,
  decodeTxdata,
  encodeInputs,
  encodeMutations,
  encodeOutputs,
  encodeTxdata,
  skipRecordFn,
  varcharFromStrTruncate,
} from '../../src/payload/index.js';
import { KERMIT, type TestRow, decodeTestRow, encodeTestRow, hex, rowVisitor } from '../unit/payload/test-rows.js';

const RUNS = { numRuns: 300 };
const visitor = rowVisitor(decodeTestRow);

/** Like the reference's `Varchar<255>` generator: any characters, cut to at most 255 UTF-8 bytes. */
const varchar = fc.string({ unit: 'binary', maxLength: 255 }).map((s) => varcharFromStrTruncate(s, 255));
const tableId = fc.integer({ min: 0, max: 0xffff_ffff });

const inputs: fc.Arbitrary<Inputs> = fc.record({
  reducerName: varchar,
  reducerArgs: fc.uint8Array({ maxLength: 300 }),
});
const outputs: fc.Arbitrary<Outputs> = fc.record({ reducerOutput: varchar });
const ops: fc.Arbitrary<Ops<TestRow>> = fc.record({
  tableId,
  rowdata: fc.integer({ min: 1, max: 9 }).map((n) => Array.from({ length: n }, () => KERMIT)),
});
const mutations: fc.Arbitrary<Mutations<TestRow>> = fc.record({
  inserts: fc.array(ops, { maxLength: 9 }),
  deletes: fc.array(ops, { maxLength: 9 }),
  truncates: fc.array(tableId, { maxLength: 9 }),
});
const txdata: fc.Arbitrary<Txdata<TestRow>> = fc.record({
  inputs: fc.option(inputs, { nil: undefined }),
  outputs: fc.option(outputs, { nil: undefined }),
  mutations: fc.option(mutations, { nil: undefined }),
});

/** Encodes, decodes, and checks that every byte was read. */
function roundTrip<T>(value: T, encode: (v: T, out: ByteWriter) => void, decode: (r: BufReader) => T): T {
  const out = new ByteWriter(256);
  encode(value, out);
  const reader = new BufReader(out.bytes());
  const back = decode(reader);
  expect(reader.remaining).toBe(0);
  return back;
}

describe('P1–P4 txdata round trips (proptests)', () => {
  it('P1 Inputs', () => {
    fc.assert(
      fc.property(inputs, (v) => {
        expect(roundTrip(v, encodeInputs, decodeInputs)).toEqual(v);
      }),
      RUNS,
    );
  });

  it('P2 Outputs', () => {
    fc.assert(
      fc.property(outputs, (v) => {
        expect(roundTrip(v, encodeOutputs, decodeOutputs)).toEqual(v);
      }),
      RUNS,
    );
  });

  it('P3 Mutations', () => {
    fc.assert(
      fc.property(mutations, (v) => {
        const back = roundTrip(v, (m, out) => encodeMutations(m, encodeTestRow, out), (r) => decodeMutations(visitor, r));
        expect(back).toEqual(v);
      }),
      RUNS,
    );
  });

  it('P4 Txdata (each section optional)', () => {
    fc.assert(
      fc.property(txdata, (v) => {
        const encode = (t: Txdata<TestRow>, out: ByteWriter) => encodeTxdata(t, encodeTestRow, out);
        expect(roundTrip(v, encode, (r) => decodeTxdata(visitor, r))).toEqual(v);
        // Through the record-level entry points too: decode gives the value, skip reads the same bytes.
        expect(roundTrip(v, encode, (r) => decodeRecordFn(visitor, 1, 0, r))).toEqual(v);
        roundTrip(v, encode, (r) => {
          skipRecordFn(visitor, 1, r);
          return v;
        });
      }),
      RUNS,
    );
  });

  it('records laid back to back decode one after another from a shared cursor', () => {
    fc.assert(
      fc.property(fc.array(txdata, { minLength: 1, maxLength: 5 }), (records) => {
        const out = new ByteWriter(256);
        for (const t of records) encodeTxdata(t, encodeTestRow, out);
        const reader = new BufReader(out.bytes());
        for (const t of records) expect(decodeRecordFn(visitor, 1, 0, reader)).toEqual(t);
        expect(reader.remaining).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('the test row is the 30 bytes of §10.6', () => {
    const out = new ByteWriter(32);
    encodeTestRow(KERMIT, out);
    expect(out.bytes()).toEqual(
      hex('2a 00 00 00 00 00 00 00 06 00 00 00 6b 65 72 6d 69 74 04 00 00 00 02 00 00 00 12 00 00 00'),
    );
  });
});
