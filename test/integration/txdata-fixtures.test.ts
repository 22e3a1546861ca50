/**
 * Txdata in logs written by real SpacetimeDB servers (SPEC §13.10 X5, §10.5, Appendix A.7).
 * Row bytes cannot be delimited without the module's schemas, so records are checked in two ways:
 * the structure every record starts with (flags, inputs, outputs, first insert count), and a full
 * decode of tx offset 1 of the v1.2 log with a visitor that knows the sizes of its two tables' rows.
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BufReader, commits, transactionsFrom } from '../../src/index.js';
import {
  type TxdataVisitor,
  TxdataFlags,
  decodeInputs,
  decodeOutputs,
  decodeRecordFn,
  decodeVarint,
  skipRecordFn,
  txdataDecoder,
} from '../../src/payload/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const V12 = `${FIXTURES}spacetimedb-v1.2/clog`;
const V26 = `${FIXTURES}spacetimedb-v2.6/clog`;

/** §10.5: table 7 rows are identity (32) + connection id (16); table 4098 rows identity (32) + Option + bool. */
const ROW_LEN: Record<number, number> = { 7: 48, 4098: 34 };

function rowLen(tableId: number): number {
  const n = ROW_LEN[tableId];
  if (n === undefined) throw new Error(`no schema for table ${tableId}`);
  return n;
}

/** Rows as raw bytes, delimited by the known sizes. */
const sizedVisitor: TxdataVisitor<Uint8Array> = {
  visitInsert: (t, r) => r.getArray(rowLen(t)),
  visitDelete: (t, r) => r.getArray(rowLen(t)),
  skipRow: (t, r) => void r.getSlice(rowLen(t)),
};

/** Byte 6 of segment 0's header is its log format version (§2.2). */
function formatVersion(dir: string): number {
  return fs.readFileSync(`${dir}/00000000000000000000.stdb.log`).subarray(0, 10)[6]!;
}

describe('every record of both fixtures (X5)', () => {
  for (const [name, dir, commitCount, firstInserts] of [
    ['v1.2', V12, 9, 6],
    ['v2.6', V26, 1, 11],
  ] as const) {
    it(`${name}: flags have HAVE_MUTATIONS, reserved bits 0; inputs/outputs and the first insert ops parse`, () => {
      const all = [...commits(dir)];
      expect(all.length).toBe(commitCount);
      for (const c of all) {
        // SpacetimeDB writes one record per commit, so a commit's records are exactly one Txdata.
        expect(c.n).toBe(1);
        const reader = new BufReader(c.records);
        const flags = reader.getU8();
        expect(flags & TxdataFlags.HAVE_MUTATIONS).toBe(TxdataFlags.HAVE_MUTATIONS);
        expect(flags & 0x1f).toBe(0);
        if (flags & TxdataFlags.HAVE_INPUTS) decodeInputs(reader);
        if (flags & TxdataFlags.HAVE_OUTPUTS) decodeOutputs(reader);
        const nIns = decodeVarint(reader);
        expect(typeof nIns).toBe('number');
        if ((nIns as number) > 0) reader.getU32();
        expect(reader.remaining).toBeGreaterThan(0);
      }
      // A.7: the first commit's records start `20 06 01` (v1.2) and `20 0b 01` (v2.6).
      const first = new BufReader(all[0]!.records);
      expect(first.getU8()).toBe(0x20);
      expect(decodeVarint(first)).toBe(firstInserts);
    });
  }

  it('the segments are log format version 1, which the Txdata decoder accepts', () => {
    expect(formatVersion(V12)).toBe(1);
    expect(formatVersion(V26)).toBe(1);
  });
});

describe('§10.5 dissection of tx offset 1 of the v1.2 fixture', () => {
  const commit = [...commits(V12)].find((c) => c.minTxOffset === 1)!;

  it('is the commit with CRC 0x7AE01EDE and 175 bytes of records starting a0 4b 00 00 00 12', () => {
    expect(commit.checksum).toBe(0x7ae01ede);
    expect(commit.records.length).toBe(175);
    expect([...commit.records.subarray(0, 6)]).toEqual([0xa0, 0x4b, 0x00, 0x00, 0x00, 0x12]);
  });

  it('decodes to identity_connected with 56 args bytes and inserts into tables 7 and 4098, consuming every byte', () => {
    const reader = new BufReader(commit.records);
    const tx = decodeRecordFn(sizedVisitor, 1, 1, reader);
    expect(reader.remaining).toBe(0);
    expect(tx.outputs).toBeUndefined();
    expect(tx.inputs!.reducerName).toBe('identity_connected');
    expect(tx.inputs!.reducerArgs.length).toBe(56);
    // len 75 = 1 + 18 + 56
    expect(1 + 18 + tx.inputs!.reducerArgs.length).toBe(0x4b);
    const m = tx.mutations!;
    expect(m.inserts.map((o) => [o.tableId, o.rowdata.map((r) => r.length)])).toEqual([
      [7, [48]],
      [4098, [34]],
    ]);
    expect(m.deletes).toEqual([]);
    expect(m.truncates).toEqual([]);
    const client = m.inserts[1]!.rowdata[0]!;
    expect([client[32], client[33]]).toEqual([0x01, 0x01]); // Option none, bool true
  });

  it('skip mode reads the same 175 bytes', () => {
    const reader = new BufReader(commit.records);
    skipRecordFn(sizedVisitor, 1, reader);
    expect(reader.remaining).toBe(0);
  });

  it('transactionsFrom(dir, 1, txdataDecoder) yields offset 1 first with the same Txdata', () => {
    const it = transactionsFrom(V12, 1, txdataDecoder(sizedVisitor));
    const first = it.next();
    it.return?.();
    expect(first.done).toBe(false);
    expect(first.value!.offset).toBe(1);
    expect(first.value!.txdata).toEqual(decodeRecordFn(sizedVisitor, 1, 1, new BufReader(commit.records)));
  });
});
