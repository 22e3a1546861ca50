/**
 * The change stream's direct BSATN → JSON writer (src/replay/bsatn-json.ts) against the path it
 * replaces: decode the row with the `spacetimedb` package, then `rowTextSerializer`. For random
 * columns of every type (the fast ones and the ones it hands to the package) and random values, the
 * bytes must be the same, and a cut row must be refused, never written short.
 */
import fc from 'fast-check';
import { Identity } from 'spacetimedb';
import { describe, expect, it } from 'vitest';
import { JsonCursor, JsonOut, bsatnJsonWriter } from '../../src/replay/bsatn-json.js';
import { rowTextSerializer } from '../../src/replay/json-text.js';
import { AT, BinaryReader, BinaryWriter, type AlgebraicType, option, product, rowCodec } from '../../src/replay/stdb.js';
import { fuzzRuns } from '../helpers/reliability.js';

type Column = { type: AlgebraicType; value: fc.Arbitrary<unknown> };

const f32 = fc.float({ noDefaultInfinity: false, noNaN: false }).map((x) => Math.fround(x));
const COLUMNS: Column[] = [
  { type: AT.Bool, value: fc.boolean() },
  { type: AT.I8, value: fc.integer({ min: -128, max: 127 }) },
  { type: AT.U8, value: fc.nat({ max: 255 }) },
  { type: AT.I16, value: fc.integer({ min: -32768, max: 32767 }) },
  { type: AT.U16, value: fc.nat({ max: 0xffff }) },
  { type: AT.I32, value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
  { type: AT.U32, value: fc.nat({ max: 0xffff_ffff }) },
  // Both sides of the 2^53 switch between the double and the bigint paths.
  { type: AT.I64, value: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n })) },
  { type: AT.U64, value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 54n })) },
  { type: AT.U128, value: fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }) },
  { type: AT.I256, value: fc.bigInt({ min: -(2n ** 255n), max: 2n ** 255n - 1n }) },
  { type: AT.F32, value: fc.oneof(f32, fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(-0, 2 ** 24, 1e20)) },
  { type: AT.F64, value: fc.oneof(fc.double(), fc.constantFrom(-0, 1e21, 2 ** 53, 2 ** 53 + 2, NaN, -Infinity, 0.1)) },
  { type: AT.String, value: fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ maxLength: 100 }), fc.constantFrom('', 'a"b', 'a\\b', '\n\t\u0000', 'é', '\u{1f600}')) },
  { type: AT.Array(AT.U8), value: fc.uint8Array({ maxLength: 150 }) },
  // Handed to the package: options, products, sums, arrays, identities.
  { type: option(AT.String), value: fc.option(fc.string(), { nil: undefined }) },
  { type: product([['x', AT.F32], ['y', AT.I32]]), value: fc.record({ x: f32, y: fc.integer({ min: -5, max: 5 }) }) },
  { type: AT.Array(AT.U32), value: fc.array(fc.nat({ max: 0xffff_ffff }), { maxLength: 5 }) },
  { type: product([['__identity__', AT.U256]]), value: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }).map((n) => new Identity(n)) },
];

/** A row type of 1–6 random columns with a value for each. */
const rowArb = fc
  .array(fc.nat({ max: COLUMNS.length - 1 }), { minLength: 1, maxLength: 6 })
  .chain((picks) => {
    const columns = picks.map((p, i) => ({ name: `c${i}_${['a', 'ü', 'x"y'][i % 3]}`, type: COLUMNS[p]!.type }));
    return fc.tuple(fc.constant(columns), fc.tuple(...picks.map((p) => COLUMNS[p]!.value)));
  });

/** The row's bytes (names do not reach them: the package's serializer gets plain identifiers). */
function encode(columns: { name: string; type: AlgebraicType }[], values: unknown[]): Uint8Array {
  const w = new BinaryWriter(64);
  AT.makeSerializer(product(columns.map((c, i) => [`f${i}`, c.type])))(w, Object.fromEntries(values.map((v, i) => [`f${i}`, v])));
  return w.getBuffer();
}

function direct(columns: { name: string; type: AlgebraicType }[], bytes: Uint8Array, at = 0): { text: string; end: number } {
  const writer = bsatnJsonWriter(columns)!;
  const c = new JsonCursor();
  c.use(bytes);
  c.pos = at;
  const out = new JsonOut(16); // small, so growing is exercised
  writer(c, out);
  return { text: out.take().toString('utf8'), end: c.pos };
}

function viaDecode(columns: { name: string; type: AlgebraicType }[], bytes: Uint8Array): string {
  return rowTextSerializer(columns)(rowCodec(columns).decode(new BinaryReader(bytes)));
}

describe('BSATN straight to JSON', () => {
  it('writes what decoding and serializing writes, for every column type', () => {
    fc.assert(
      fc.property(rowArb, ([columns, values]) => {
        const bytes = encode(columns, values);
        const got = direct(columns, bytes);
        expect(got.text).toBe(viaDecode(columns, bytes));
        expect(got.end).toBe(bytes.length);
        JSON.parse(got.text); // and it is JSON
      }),
      { numRuns: fuzzRuns(2000) },
    );
  });

  it('reads rows one after another from inside a commit, at any position', () => {
    fc.assert(
      fc.property(rowArb, fc.uint8Array({ maxLength: 9 }), ([columns, values], before) => {
        const row = encode(columns, values);
        const bytes = new Uint8Array([...before, ...row, ...row]);
        const first = direct(columns, bytes, before.length);
        const second = direct(columns, bytes, first.end);
        expect(second.text).toBe(first.text);
        expect(second.end).toBe(bytes.length);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it('refuses a row cut anywhere, as decoding does', () => {
    fc.assert(
      fc.property(rowArb, ([columns, values]) => {
        const bytes = encode(columns, values);
        for (let cut = 0; cut < bytes.length; cut++) {
          const short = bytes.subarray(0, cut);
          expect(() => direct(columns, short)).toThrow();
          expect(() => viaDecode(columns, short)).toThrow();
        }
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it('strings that are not valid UTF-8 come out as decoding makes them (U+FFFD)', () => {
    const columns = [{ name: 's', type: AT.String }];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (raw) => {
        const bytes = new Uint8Array(4 + raw.length);
        new DataView(bytes.buffer).setUint32(0, raw.length, true);
        bytes.set(raw, 4);
        expect(direct(columns, bytes).text).toBe(viaDecode(columns, bytes));
      }),
      { numRuns: fuzzRuns(1000) },
    );
  });

  it('leaves repeated column names to the object path', () => {
    expect(bsatnJsonWriter([{ name: 'a', type: AT.U8 }, { name: 'a', type: AT.U8 }])).toBeNull();
  });
});
