/**
 * Types for the parts of the `spacetimedb` npm package that replay uses. The package's own
 * declarations re-export with extensionless relative paths, which NodeNext resolution cannot
 * follow (`AlgebraicType` comes out missing), so these mirror them; stdb.ts binds them to the
 * package's runtime values. Types only: nothing here runs.
 */

export interface ProductTypeElement {
  name: string | undefined;
  algebraicType: AlgebraicType;
}

export interface SumTypeVariant {
  name: string | undefined;
  algebraicType: AlgebraicType;
}

export interface ProductType {
  elements: ProductTypeElement[];
}

export interface SumType {
  variants: SumTypeVariant[];
}

export type PrimitiveTag =
  | 'String'
  | 'Bool'
  | 'I8'
  | 'U8'
  | 'I16'
  | 'U16'
  | 'I32'
  | 'U32'
  | 'I64'
  | 'U64'
  | 'I128'
  | 'U128'
  | 'I256'
  | 'U256'
  | 'F32'
  | 'F64';

/** The package's `AlgebraicType` value shape: `{ tag, value }` for the composite kinds. */
export type AlgebraicType =
  | { tag: 'Ref'; value: number }
  | { tag: 'Sum'; value: SumType }
  | { tag: 'Product'; value: ProductType }
  | { tag: 'Array'; value: AlgebraicType }
  | { readonly tag: PrimitiveTag };

export interface Typespace {
  types: AlgebraicType[];
}

export interface BinaryReader {
  view: DataView;
  offset: number;
  readonly remaining: number;
  reset(input: Uint8Array | DataView): void;
}

export interface BinaryWriter {
  offset: number;
  getBuffer(): Uint8Array;
  clear(): void;
}

export type Deserializer<T> = (reader: BinaryReader) => T;
export type Serializer<T> = (writer: BinaryWriter, value: T) => void;

export interface AlgebraicTypeStatics {
  Ref(value: number): AlgebraicType;
  Sum(value: SumType): AlgebraicType;
  Product(value: ProductType): AlgebraicType;
  Array(value: AlgebraicType): AlgebraicType;
  makeDeserializer(ty: AlgebraicType, typespace?: Typespace): Deserializer<unknown>;
  makeSerializer(ty: AlgebraicType, typespace?: Typespace): Serializer<unknown>;
}

/** The package's module namespace, as far as replay uses it. */
export interface SpacetimeModule {
  AlgebraicType: AlgebraicTypeStatics & { readonly [K in PrimitiveTag]: AlgebraicType };
  BinaryReader: new (input: Uint8Array | DataView) => BinaryReader;
  BinaryWriter: new (size: number) => BinaryWriter;
}
