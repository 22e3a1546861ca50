/**
 * BSATN of `AlgebraicType` (the bytes of `st_column.col_type`) and row codecs over the `spacetimedb`
 * package. Expected bytes follow the SATS meta type (crates/sats/src/algebraic_type.rs: tags Ref 0,
 * Sum 1, Product 2, Array 3, String 4, Bool 5, I8 6, U8 7, I16 8, U16 9, I32 10, U32 11, I64 12,
 * U64 13, I128 14, U128 15, I256 16, U256 17, F32 18, F64 19; names are `Option<String>`, some = 0)
 * and SPEC §10.6.
 */
import fc from 'fast-check';
import { Identity } from 'spacetimedb';
import { describe, expect, it } from 'vitest';
import { type AlgebraicType, decodeAlgebraicType, encodeAlgebraicType, rowCodec } from '../../../src/api/replay.js';
import { AT, BinaryReader, BinaryWriter, option, product, sum } from '../../../src/replay/stdb.js';

const PRIMS = ['String', 'Bool', 'I8', 'U8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64', 'I128', 'U128', 'I256', 'U256', 'F32', 'F64'] as const;
const ascii = (s: string): number[] => [...Buffer.from(s)];
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];

describe('AlgebraicType BSATN (st_column.col_type)', () => {
  it('primitives are their tag byte, 4 (String) to 19 (F64)', () => {
    PRIMS.forEach((p, i) => {
      expect([...encodeAlgebraicType(AT[p])]).toEqual([4 + i]);
      expect(decodeAlgebraicType(Uint8Array.of(4 + i))).toEqual(AT[p]);
    });
  });

  it('Array<U8> is 03 07; Ref(5) is 00 05 00 00 00', () => {
    expect([...encodeAlgebraicType(AT.Array(AT.U8))]).toEqual([3, 7]);
    expect(decodeAlgebraicType(Uint8Array.of(0, 5, 0, 0, 0))).toEqual(AT.Ref(5));
  });

  it('a product { x: u32 } and an unnamed element', () => {
    const bytes = [2, ...u32(1), 0, ...u32(1), ...ascii('x'), 11];
    expect([...encodeAlgebraicType(product([['x', AT.U32]]))]).toEqual(bytes);
    expect(decodeAlgebraicType(Uint8Array.from(bytes))).toEqual(product([['x', AT.U32]]));
    const unnamed = [2, ...u32(1), 1, 4];
    expect(decodeAlgebraicType(Uint8Array.from(unnamed))).toEqual(AT.Product({ elements: [{ name: undefined, algebraicType: AT.String }] }));
  });

  it('Option<String> is the sum { some: String, none: () }', () => {
    const bytes = [1, ...u32(2), 0, ...u32(4), ...ascii('some'), 4, 0, ...u32(4), ...ascii('none'), 2, ...u32(0)];
    expect([...encodeAlgebraicType(option(AT.String))]).toEqual(bytes);
    expect(decodeAlgebraicType(Uint8Array.from(bytes))).toEqual(option(AT.String));
  });

  it('rejects trailing bytes, unknown tags and truncation with an Error', () => {
    expect(() => decodeAlgebraicType(Uint8Array.of(11, 0))).toThrow(/trailing/);
    expect(() => decodeAlgebraicType(Uint8Array.of(20))).toThrow(Error);
    expect(() => decodeAlgebraicType(Uint8Array.of(2, 1, 0, 0, 0, 0, 9, 0, 0, 0))).toThrow(Error);
    expect(() => decodeAlgebraicType(new Uint8Array(0))).toThrow(Error);
  });

  const name = fc.option(fc.string({ unit: 'grapheme', maxLength: 8 }), { nil: undefined });
  const { type } = fc.letrec<{ type: AlgebraicType; named: { name: string | undefined; algebraicType: AlgebraicType }[] }>((tie) => ({
    type: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(...PRIMS.map((p) => AT[p])),
      fc.nat({ max: 0xffff_ffff }).map((n) => AT.Ref(n)),
      tie('type').map((t) => AT.Array(t)),
      tie('named').map((variants) => AT.Sum({ variants })),
      tie('named').map((elements) => AT.Product({ elements })),
    ),
    named: fc.array(fc.record({ name, algebraicType: tie('type') }), { maxLength: 4 }),
  }));

  it('property: encode then decode is the identity, every byte consumed', () => {
    fc.assert(
      fc.property(type, (t) => {
        expect(decodeAlgebraicType(encodeAlgebraicType(t))).toEqual(t);
      }),
      { numRuns: 300 },
    );
  });
});

function encode(columns: [string, AlgebraicType][], value: Record<string, unknown>): Uint8Array {
  const w = new BinaryWriter(32);
  rowCodec(columns.map(([n, t]) => ({ name: n, type: t }))).encode(w, value);
  return w.getBuffer().slice();
}

function decode(columns: [string, AlgebraicType][], bytes: Uint8Array): { row: Record<string, unknown>; used: number } {
  const r = new BinaryReader(bytes);
  const row = rowCodec(columns.map(([n, t]) => ({ name: n, type: t }))).decode(r);
  return { row, used: r.offset };
}

describe('row codecs', () => {
  const KERMIT: [string, AlgebraicType][] = [
    ['id', AT.U64],
    ['name', AT.String],
    ['x', AT.U32],
    ['y', AT.U32],
    ['z', AT.U32],
  ];
  const KERMIT_BYTES = Buffer.from('2a0000000000000006000000' + '6b65726d6974' + '040000000200000012000000', 'hex');

  it('SPEC §10.6: (42, "kermit", 4, 2, 18) is 30 bytes both ways', () => {
    expect(KERMIT_BYTES.length).toBe(30);
    expect(decode(KERMIT, KERMIT_BYTES)).toEqual({ row: { id: 42n, name: 'kermit', x: 4, y: 2, z: 18 }, used: 30 });
    expect(Buffer.from(encode(KERMIT, { id: 42n, name: 'kermit', x: 4, y: 2, z: 18 })).equals(KERMIT_BYTES)).toBe(true);
  });

  it('unnamed and non-identifier field names keep their names (positions for unnamed)', () => {
    const cols: [string, AlgebraicType][] = [
      ['my col', AT.Product({ elements: [{ name: undefined, algebraicType: AT.U8 }, { name: 'a-b', algebraicType: AT.String }] })],
      ['__proto__', sum([['has space', AT.U8], ['ok', AT.Bool]])],
    ];
    const bytes = Uint8Array.from([7, ...u32(2), ...ascii('hi'), 0, 9]);
    expect(decode(cols, bytes)).toEqual({
      row: { 'my col': { '0': 7, 'a-b': 'hi' }, ['__proto__']: { tag: 'has space', value: 9 } },
      used: bytes.length,
    });
    expect(() => encode(cols, {})).toThrow(/cannot encode/);
  });

  it('a sum tag past the last variant, a bad option tag and a short row throw Errors', () => {
    const s: [string, AlgebraicType][] = [['s', sum([['A', AT.U8], ['B', AT.U8]])]];
    expect(() => decode(s, Uint8Array.of(2, 0))).toThrow(/invalid sum tag/);
    expect(() => decode([['o', option(AT.U8)]], Uint8Array.of(2, 0))).toThrow(Error);
    expect(() => decode(KERMIT, KERMIT_BYTES.subarray(0, 29))).toThrow(RangeError);
    expect(() => decode([['s', AT.String]], Uint8Array.from([...u32(5), 1, 2]))).toThrow(RangeError);
  });

  const RICH: [string, AlgebraicType][] = [
    ['a', AT.U8],
    ['b', AT.I16],
    ['c', AT.U32],
    ['d', AT.U64],
    ['e', AT.I128],
    ['f', AT.String],
    ['g', AT.Bool],
    ['h', option(AT.String)],
    ['i', AT.Array(AT.U32)],
    ['j', AT.Array(AT.U8)],
    ['k', sum([['A', AT.U32], ['B', product([['x', AT.String]])], ['C', product([])]])],
    ['l', AT.F64],
    ['m', product([['__identity__', AT.U256]])],
  ];
  const richValue = fc.record({
    a: fc.nat({ max: 255 }),
    b: fc.integer({ min: -32768, max: 32767 }),
    c: fc.nat({ max: 0xffff_ffff }),
    d: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    e: fc.bigInt({ min: -(2n ** 127n), max: 2n ** 127n - 1n }),
    f: fc.string({ unit: 'grapheme' }),
    g: fc.boolean(),
    h: fc.option(fc.string(), { nil: undefined }),
    i: fc.array(fc.nat({ max: 0xffff_ffff })),
    j: fc.uint8Array(),
    k: fc.oneof(
      fc.nat({ max: 0xffff_ffff }).map((value) => ({ tag: 'A', value })),
      fc.string().map((x) => ({ tag: 'B', value: { x } })),
      fc.constant({ tag: 'C', value: {} }),
    ),
    l: fc.double(),
    m: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }).map((n) => new Identity(n)),
  });

  it('property: package encode then decode gives the row back and reads exactly its bytes', () => {
    fc.assert(
      fc.property(richValue, (v) => {
        const bytes = encode(RICH, v);
        const { row, used } = decode(RICH, Uint8Array.from([...bytes, 0xee]));
        expect(used).toBe(bytes.length);
        expect(row).toEqual(v);
      }),
      { numRuns: 300 },
    );
  });
});
