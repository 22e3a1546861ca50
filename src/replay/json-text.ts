/**
 * Rows straight to JSON text, equal to `JSON.stringify(rowToJson(row, columns))` but without building
 * the intermediate object (`clog changes` spent most of its time there). One serializer per schema,
 * compiled from its column types.
 */
import type { ColumnSchema } from './system-tables.js';
import type { AlgebraicType, Row } from './stdb.js';
import { type Json, rowToJson, specialOf, toHex, valueToJson } from './json.js';

type Field = (v: unknown) => string;

export function fieldText(type: AlgebraicType): Field {
  switch (type.tag) {
    case 'Bool':
      return (v) => (v ? 'true' : 'false');
    case 'I8':
    case 'U8':
    case 'I16':
    case 'U16':
    case 'I32':
    case 'U32':
      return (v) => String(v);
    case 'I64':
    case 'U64':
    case 'I128':
    case 'U128':
    case 'I256':
    case 'U256':
      return (v) => `"${String(v)}"`;
    case 'F32':
    case 'F64':
      return (v) => (Number.isFinite(v) ? String(v) : `"${String(v)}"`);
    case 'String':
      return (v) => JSON.stringify(v);
    case 'Array':
      if (type.value.tag === 'U8') return (v) => (v instanceof Uint8Array ? `"${toHex(v)}"` : JSON.stringify(valueToJson(v, type)));
      break;
    case 'Product':
      if (specialOf(type) === '__identity__' || specialOf(type) === '__connection_id__') {
        return (v) => `"${(v as { toHexString(): string }).toHexString()}"`;
      }
      break;
  }
  return (v) => JSON.stringify(valueToJson(v, type) as Json);
}

export type RowText = (row: Row) => string;

/** A serializer for rows of `columns`; the object path where names repeat (the object keeps one). */
export function rowTextSerializer(columns: readonly ColumnSchema[]): RowText {
  const names = columns.map((c) => c.name);
  if (new Set(names).size !== names.length) return (row) => JSON.stringify(rowToJson(row, columns));
  const keys = names.map((n, i) => `${i === 0 ? '' : ','}${JSON.stringify(n)}:`);
  const fields = columns.map((c) => fieldText(c.type));
  return (row) => {
    let s = '{';
    for (let i = 0; i < fields.length; i++) s += keys[i]! + fields[i]!(row[names[i]!]);
    return s + '}';
  };
}
