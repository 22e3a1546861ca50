/**
 * How SpacetimeDB column types become SQLite columns (issue 15). Tables are STRICT, so a value is
 * stored exactly as bound: integers that fit 64 bits as INTEGER, wider ones (u64 and up) in ANY
 * columns as INTEGER when they fit and decimal TEXT otherwise, never as a rounded REAL.
 */
import { type Json, optionOf, specialOf, spellType, valueToJson } from '../replay/json.js';
import type { AlgebraicType } from '../replay/stdb.js';

export type SqlDecl = 'INTEGER' | 'REAL' | 'TEXT' | 'BLOB' | 'ANY';

export interface SqlColumnType {
  /** The STRICT column type. */
  decl: SqlDecl;
  /** How the value is stored, for `_stdb_tables.columns` and the docs. */
  stored: string;
  /** The SpacetimeDB type as a person reads it. */
  spelled: string;
  /** The value to bind (null for SQL NULL). */
  toSql(value: unknown): unknown;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function wideInteger(v: unknown): unknown {
  const b = typeof v === 'bigint' ? v : BigInt(v as number);
  return b >= I64_MIN && b <= I64_MAX ? b : b.toString();
}

function float(v: unknown): unknown {
  // SQLite turns NaN into NULL: keep it as text so it is not lost.
  return Number.isNaN(v) ? 'NaN' : v;
}

const json = (type: AlgebraicType) => (v: unknown) => JSON.stringify(valueToJson(v, type) as Json);

export function sqlColumnType(type: AlgebraicType): SqlColumnType {
  const spelled = spellType(type);
  switch (type.tag) {
    case 'Bool':
      return {
        decl: 'INTEGER',
        stored: '0 or 1',
        spelled,
        toSql: (v) => (v ? 1 : 0),
      };
    case 'I8':
    case 'U8':
    case 'I16':
    case 'U16':
    case 'I32':
    case 'U32':
    case 'I64':
      return { decl: 'INTEGER', stored: 'integer', spelled, toSql: (v) => v };
    case 'U64':
    case 'I128':
    case 'U128':
    case 'I256':
    case 'U256':
      return {
        decl: 'ANY',
        stored: 'integer if it fits 64 bits, else decimal text',
        spelled,
        toSql: wideInteger,
      };
    case 'F32':
    case 'F64':
      return {
        decl: 'ANY',
        stored: "real ('NaN' as text)",
        spelled,
        toSql: float,
      };
    case 'String':
      return { decl: 'TEXT', stored: 'text', spelled, toSql: (v) => v };
    case 'Array':
      if (type.value.tag === 'U8') return { decl: 'BLOB', stored: 'blob', spelled, toSql: (v) => v };
      return { decl: 'TEXT', stored: 'JSON text', spelled, toSql: json(type) };
    case 'Product': {
      switch (specialOf(type)) {
        case '__identity__':
        case '__connection_id__':
        case '__uuid__':
          return {
            decl: 'TEXT',
            stored: 'hex text',
            spelled,
            toSql: (v) => valueToJson(v, type),
          };
        case '__timestamp_micros_since_unix_epoch__':
          return {
            decl: 'TEXT',
            stored: 'ISO-8601 text with microseconds (decimal microseconds outside the years 0000–9999)',
            spelled,
            toSql: (v) => valueToJson(v, type),
          };
        case '__time_duration_micros__':
          return {
            decl: 'INTEGER',
            stored: 'integer microseconds',
            spelled,
            toSql: (v) => (v as Record<string, unknown>).__time_duration_micros__,
          };
        default:
          return {
            decl: 'TEXT',
            stored: 'JSON text',
            spelled,
            toSql: json(type),
          };
      }
    }
    case 'Sum': {
      const inner = optionOf(type);
      if (inner) {
        const t = sqlColumnType(inner);
        // `none` is NULL; `some(x)` is x as its own type stores it (nested options: JSON).
        if (optionOf(inner) === null) {
          return {
            decl: t.decl,
            stored: `${t.stored}, NULL for none`,
            spelled,
            toSql: (v) => (v === undefined ? null : t.toSql(v)),
          };
        }
      }
      return { decl: 'TEXT', stored: 'JSON text', spelled, toSql: json(type) };
    }
    case 'Ref':
      // A reference into a typespace the log does not carry: nothing to decode it with.
      throw new UnsupportedTypeError(spelled);
  }
}

export class UnsupportedTypeError extends Error {
  constructor(readonly spelled: string) {
    super(`column type ${spelled} cannot be decoded from the log (a type reference without its typespace)`);
  }
}
