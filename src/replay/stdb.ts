/**
 * BSATN through the official `spacetimedb` npm package: its runtime `AlgebraicType`, `BinaryReader`
 * and `BinaryWriter`, typed by stdb-types.ts. On top of it: the BSATN of `AlgebraicType` itself (the
 * bytes of `st_column.col_type`), and row codecs that survive names the package's generated code
 * cannot take (unnamed or non-identifier fields) and reject sum tags it would silently accept.
 */
import * as stdbModule from 'spacetimedb';
import type {
  AlgebraicType,
  BinaryReader as BinaryReaderT,
  BinaryWriter as BinaryWriterT,
  PrimitiveTag,
  ProductType,
  SpacetimeModule,
  SumType,
  Typespace,
} from './stdb-types.js';

export type { AlgebraicType, PrimitiveTag, ProductType, SumType, Typespace } from './stdb-types.js';

const stdb = stdbModule as unknown as SpacetimeModule;
export const AT = stdb.AlgebraicType;
export const BinaryReader = stdb.BinaryReader;
export const BinaryWriter = stdb.BinaryWriter;
export type BinaryReader = BinaryReaderT;
export type BinaryWriter = BinaryWriterT;

export const PRIMITIVE_TAGS: readonly PrimitiveTag[] = [
  'String', 'Bool', 'I8', 'U8', 'I16', 'U16', 'I32', 'U32',
  'I64', 'U64', 'I128', 'U128', 'I256', 'U256', 'F32', 'F64',
];

export const UNIT: AlgebraicType = AT.Product({ elements: [] });

export function product(fields: [string, AlgebraicType][]): AlgebraicType {
  return AT.Product({ elements: fields.map(([name, algebraicType]) => ({ name, algebraicType })) });
}

export function sum(variants: [string, AlgebraicType][]): AlgebraicType {
  return AT.Sum({ variants: variants.map(([name, algebraicType]) => ({ name, algebraicType })) });
}

/** SATS `Option<T>`: variants `some` (tag 0) and `none` (tag 1), which the package maps to value/undefined. */
export function option(t: AlgebraicType): AlgebraicType {
  return sum([
    ['some', t],
    ['none', UNIT],
  ]);
}

// ---------------------------------------------------------------------------------------------
// The meta type: `AlgebraicType` as SATS describes itself (crates/sats/src/algebraic_type.rs,
// `meta_type`): a sum whose tags are Ref 0, Sum 1, Product 2, Array 3, then the primitives from
// String 4 to F64 19; elements and variants are `{ name: Option<String>, algebraic_type }`.
// Variant names here follow the package's tags so a decoded value converts directly.

const META: Typespace = {
  types: [
    sum([
      ['Ref', AT.U32],
      ['Sum', AT.Ref(1)],
      ['Product', AT.Ref(2)],
      ['Array', AT.Ref(0)],
      ...PRIMITIVE_TAGS.map((t): [string, AlgebraicType] => [t, UNIT]),
    ]),
    product([['variants', AT.Array(AT.Ref(3))]]),
    product([['elements', AT.Array(AT.Ref(4))]]),
    product([
      ['name', option(AT.String)],
      ['algebraic_type', AT.Ref(0)],
    ]),
    product([
      ['name', option(AT.String)],
      ['algebraic_type', AT.Ref(0)],
    ]),
  ],
};
const META_TYPE = AT.Ref(0);
const decodeMeta = AT.makeDeserializer(META_TYPE, META);
const encodeMeta = AT.makeSerializer(META_TYPE, META);

interface MetaNamed {
  name: string | undefined;
  algebraic_type: MetaValue;
}
type MetaValue = { tag: string; value: unknown } | undefined;

/** Nesting deeper than this in a column type is taken for damage rather than a schema. */
const MAX_TYPE_DEPTH = 256;

function fromMeta(v: MetaValue, depth: number): AlgebraicType {
  if (v === undefined || typeof v !== 'object') throw new Error('invalid AlgebraicType tag');
  if (depth > MAX_TYPE_DEPTH) throw new Error(`AlgebraicType nested deeper than ${MAX_TYPE_DEPTH}`);
  switch (v.tag) {
    case 'Ref':
      return AT.Ref(v.value as number);
    case 'Sum':
      return AT.Sum({
        variants: (v.value as { variants: MetaNamed[] }).variants.map((x) => ({
          name: x.name,
          algebraicType: fromMeta(x.algebraic_type, depth + 1),
        })),
      });
    case 'Product':
      return AT.Product({
        elements: (v.value as { elements: MetaNamed[] }).elements.map((x) => ({
          name: x.name,
          algebraicType: fromMeta(x.algebraic_type, depth + 1),
        })),
      });
    case 'Array':
      return AT.Array(fromMeta(v.value as MetaValue, depth + 1));
    default:
      if ((PRIMITIVE_TAGS as readonly string[]).includes(v.tag)) return AT[v.tag as PrimitiveTag];
      throw new Error(`invalid AlgebraicType tag ${v.tag}`);
  }
}

function toMeta(t: AlgebraicType): unknown {
  switch (t.tag) {
    case 'Ref':
      return { tag: 'Ref', value: t.value };
    case 'Sum':
      return {
        tag: 'Sum',
        value: { variants: t.value.variants.map((x) => ({ name: x.name, algebraic_type: toMeta(x.algebraicType) })) },
      };
    case 'Product':
      return {
        tag: 'Product',
        value: { elements: t.value.elements.map((x) => ({ name: x.name, algebraic_type: toMeta(x.algebraicType) })) },
      };
    case 'Array':
      return { tag: 'Array', value: toMeta(t.value) };
    default:
      return { tag: t.tag, value: {} };
  }
}

/** Rust `AlgebraicType::decode`: the whole of `bytes` must be one type. */
export function decodeAlgebraicType(bytes: Uint8Array): AlgebraicType {
  const reader = new BinaryReader(bytes);
  const ty = fromMeta(callPackage(() => decodeMeta(reader)) as MetaValue, 0);
  if (reader.remaining !== 0) throw new Error(`${reader.remaining} trailing bytes after an AlgebraicType`);
  return ty;
}

/** Rust `AlgebraicType::encode`. */
export function encodeAlgebraicType(t: AlgebraicType): Uint8Array {
  const writer = new BinaryWriter(16);
  encodeMeta(writer, toMeta(t));
  return writer.getBuffer().slice();
}

/** The package throws strings for bad option/result tags; make every failure an `Error`. */
export function callPackage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof Error ? e : new Error(String(e));
  }
}

// ---------------------------------------------------------------------------------------------
// Row codecs.

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function isOptionSum(s: SumType): boolean {
  return s.variants.length === 2 && s.variants[0]!.name === 'some' && s.variants[1]!.name === 'none';
}

function isResultSum(s: SumType): boolean {
  return s.variants.length === 2 && s.variants[0]!.name === 'ok' && s.variants[1]!.name === 'err';
}

/** Names the package's generated code can use as property names, unique within their type. */
function safeNames(names: (string | undefined)[]): string[] {
  const seen = new Set<string>();
  return names.map((n, i) => {
    const ok = n !== undefined && IDENT.test(n) && n !== '__proto__' && !seen.has(n);
    const s = ok ? n : `_${i}`;
    seen.add(s);
    return s;
  });
}

/** `obj[key] = value` that also works for the key `__proto__` (an own property, never the prototype). */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** The key a field is reported under: its name, or its position when it has none. */
export function fieldKey(name: string | undefined, i: number): string {
  return name ?? String(i);
}

type Fix = ((v: unknown) => unknown) | null;

interface Prepared {
  safe: AlgebraicType;
  fix: Fix;
  /** Whether some name had to change (the package's serializer cannot write such values). */
  renamed: boolean;
}

/**
 * A copy of `t` with safe names, and a post-pass that restores the original names and fails on sum
 * tags the package's generated `switch` falls through (it returns `undefined` for them).
 */
function prepare(t: AlgebraicType, depth = 0): Prepared {
  if (depth > MAX_TYPE_DEPTH) throw new Error(`type nested deeper than ${MAX_TYPE_DEPTH}`);
  switch (t.tag) {
    case 'Ref':
      throw new Error(`column type refers to type #${t.value} of a typespace the log does not carry`);
    case 'Array': {
      const inner = prepare(t.value, depth + 1);
      const f = inner.fix;
      return { safe: AT.Array(inner.safe), fix: f && ((v) => (v as unknown[]).map(f)), renamed: inner.renamed };
    }
    case 'Product': {
      const els = t.value.elements;
      // The package decodes these five single-field products to its classes: keep them as they are.
      if (els.length === 1 && els[0]!.name !== undefined && SPECIAL_PRODUCTS.has(els[0]!.name)) {
        return { safe: t, fix: null, renamed: false };
      }
      const names = safeNames(els.map((e) => e.name));
      const parts = els.map((e) => prepare(e.algebraicType, depth + 1));
      const renamed = els.some((e, i) => e.name !== names[i]) || parts.some((p) => p.renamed);
      const safe = AT.Product({ elements: els.map((_, i) => ({ name: names[i], algebraicType: parts[i]!.safe })) });
      if (!renamed && parts.every((p) => p.fix === null)) return { safe, fix: null, renamed };
      const keys = els.map((e, i) => fieldKey(e.name, i));
      return {
        safe,
        renamed,
        fix: (v) => {
          const src = v as Record<string, unknown>;
          const out: Record<string, unknown> = {};
          for (let i = 0; i < keys.length; i++) {
            const f = parts[i]!.fix;
            const x = src[names[i]!];
            setKey(out, keys[i]!, f ? f(x) : x);
          }
          return out;
        },
      };
    }
    case 'Sum': {
      const s = t.value;
      if (isOptionSum(s)) {
        const inner = prepare(s.variants[0]!.algebraicType, depth + 1);
        const f = inner.fix;
        return { safe: option(inner.safe), fix: f && ((v) => (v === undefined ? v : f(v))), renamed: inner.renamed };
      }
      const parts = s.variants.map((x) => prepare(x.algebraicType, depth + 1));
      if (isResultSum(s)) {
        const ok = parts[0]!;
        const err = parts[1]!;
        const safe = sum([
          ['ok', ok.safe],
          ['err', err.safe],
        ]);
        const renamed = parts.some((p) => p.renamed);
        if (!ok.fix && !err.fix) return { safe, fix: null, renamed };
        return {
          safe,
          renamed,
          fix: (v) => {
            const r = v as { ok?: unknown; err?: unknown };
            return 'ok' in r ? { ok: ok.fix ? ok.fix(r.ok) : r.ok } : { err: err.fix ? err.fix(r.err) : r.err };
          },
        };
      }
      const names = safeNames(s.variants.map((x) => x.name));
      const tags = new Map(names.map((n, i) => [n, { key: fieldKey(s.variants[i]!.name, i), fix: parts[i]!.fix }]));
      const safe = AT.Sum({ variants: s.variants.map((_, i) => ({ name: names[i], algebraicType: parts[i]!.safe })) });
      return {
        safe,
        renamed: s.variants.some((x, i) => x.name !== names[i]) || parts.some((p) => p.renamed),
        fix: (v) => {
          if (v === undefined) throw new Error('invalid sum tag');
          const { tag, value } = v as { tag: string; value: unknown };
          const m = tags.get(tag)!;
          return { tag: m.key, value: m.fix ? m.fix(value) : value };
        },
      };
    }
    default:
      return { safe: t, fix: null, renamed: false };
  }
}

const SPECIAL_PRODUCTS = new Set([
  '__identity__',
  '__connection_id__',
  '__timestamp_micros_since_unix_epoch__',
  '__time_duration_micros__',
  '__uuid__',
]);

export type Row = Record<string, unknown>;

/** Decodes and encodes one table's rows (a product of its columns) with the package. */
export interface RowCodec {
  readonly type: AlgebraicType;
  /** Reads one row at `reader.offset`, leaving it after the row. */
  decode(reader: BinaryReader): Row;
  encode(writer: BinaryWriter, row: Row): void;
}

export function rowCodec(columns: { name: string; type: AlgebraicType }[]): RowCodec {
  const type = product(columns.map((c) => [c.name, c.type]));
  const { safe, fix, renamed } = prepare(type);
  const decode = AT.makeDeserializer(safe);
  const encode = renamed ? null : AT.makeSerializer(type);
  return {
    type,
    decode: (r) => {
      try {
        const v = decode(r);
        return (fix ? fix(v) : v) as Row;
      } catch (e) {
        // The package throws strings for bad option/result tags.
        throw e instanceof Error ? e : new Error(String(e));
      }
    },
    encode: (w, row) => {
      if (!encode) throw new Error('cannot encode rows of a type with unnamed or non-identifier field names');
      encode(w, row);
    },
  };
}
