/**
 * Rows as JSON (clog rows, brief of issue 6): bigints as decimal strings, bytes as hex, identities and
 * connection ids as big-endian hex (SpacetimeDB's `to_hex` of the u256/u128), timestamps ISO-8601.
 */
import { ConnectionId, Identity, TimeDuration, Timestamp } from 'spacetimedb';
import { describe, expect, it } from 'vitest';
import { rowToJson, valueToJson } from '../../../src/api/replay.js';
import { AT, option, product, sum } from '../../../src/replay/stdb.js';

describe('valueToJson', () => {
  it('integers of 64 bits and more are decimal strings; smaller ones numbers', () => {
    expect(valueToJson(2n ** 64n - 1n, AT.U64)).toBe('18446744073709551615');
    expect(valueToJson(-(2n ** 127n), AT.I128)).toBe('-170141183460469231731687303715884105728');
    expect(valueToJson(4294967295, AT.U32)).toBe(4294967295);
    expect(valueToJson(-5, AT.I8)).toBe(-5);
  });

  it('floats: numbers, non-finite as strings', () => {
    expect(valueToJson(1.5, AT.F64)).toBe(1.5);
    expect(valueToJson(NaN, AT.F32)).toBe('NaN');
    expect(valueToJson(-Infinity, AT.F64)).toBe('-Infinity');
  });

  it('bytes are hex, other arrays arrays', () => {
    expect(valueToJson(Uint8Array.of(0, 0xab, 0xff), AT.Array(AT.U8))).toBe('00abff');
    expect(valueToJson([1n, 2n], AT.Array(AT.U64))).toEqual(['1', '2']);
  });

  it('identity, connection id, timestamp, duration', () => {
    const id = product([['__identity__', AT.U256]]);
    expect(valueToJson(new Identity(0xc200n << 240n | 0x1an), id)).toBe('c200' + '0'.repeat(58) + '1a');
    expect(valueToJson(new ConnectionId(0x4eb1n << 112n), product([['__connection_id__', AT.U128]]))).toBe('4eb1' + '0'.repeat(28));
    const ts = product([['__timestamp_micros_since_unix_epoch__', AT.I64]]);
    expect(valueToJson(new Timestamp(1755532678674636n), ts)).toBe('2025-08-18T15:57:58.674636Z');
    expect(valueToJson(new Timestamp(2n ** 63n - 1n), ts)).toBe(String(2n ** 63n - 1n));
    expect(valueToJson(new TimeDuration(-7n), product([['__time_duration_micros__', AT.I64]]))).toBe('-7');
  });

  it('options, results and sums', () => {
    expect(valueToJson(undefined, option(AT.String))).toBeNull();
    expect(valueToJson('x', option(AT.String))).toBe('x');
    const res = sum([['ok', AT.U64], ['err', AT.String]]);
    expect(valueToJson({ ok: 3n }, res)).toEqual({ ok: '3' });
    expect(valueToJson({ err: 'no' }, res)).toEqual({ err: 'no' });
    const s = sum([['A', AT.U64], ['B', product([])]]);
    expect(valueToJson({ tag: 'A', value: 1n }, s)).toEqual({ A: '1' });
    expect(valueToJson({ tag: 'B', value: {} }, s)).toEqual({ B: {} });
  });

  it('products by field name, unnamed fields by position', () => {
    const p = AT.Product({ elements: [{ name: undefined, algebraicType: AT.U64 }, { name: 'b', algebraicType: AT.Bool }] });
    expect(valueToJson({ '0': 9n, b: true }, p)).toEqual({ '0': '9', b: true });
  });

  it('rowToJson keeps column order and JSON.stringify accepts the result', () => {
    const cols = [
      { name: 'z', type: AT.U64 },
      { name: 'a', type: AT.Array(AT.U8) },
    ];
    const j = rowToJson({ a: Uint8Array.of(1), z: 1n }, cols);
    expect(JSON.stringify(j)).toBe('{"z":"1","a":"01"}');
  });
});
