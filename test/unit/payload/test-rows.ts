/**
 * Hand-written BSATN (SPEC §10.6) for the two row types the payload tests use, and a visitor that
 * decodes every table's rows with one of them. Stand-ins until the `spacetimedb` package is wired in.
 */
import { BufReader, ByteWriter, DecodeError } from '../../../src/index.js';
import type { TxdataVisitor } from '../../../src/payload/index.js';

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function hex(s: string): Uint8Array {
  const parts = s.trim().split(/\s+/).filter((p) => p.length > 0);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

function writeString(s: string, out: ByteWriter): void {
  const bytes = utf8.encode(s);
  out.writeU32(bytes.length);
  out.write(bytes);
}

function readString(reader: BufReader): string {
  const bytes = reader.getSlice(reader.getU32());
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new DecodeError('InvalidUtf8', 'invalid UTF-8 in row string');
  }
}

/** The reference's test row `(id u64, name String, x u32, y u32, z u32)`. */
export interface TestRow {
  id: bigint;
  name: string;
  x: number;
  y: number;
  z: number;
}

export const KERMIT: TestRow = { id: 42n, name: 'kermit', x: 4, y: 2, z: 18 };

export function encodeTestRow(row: TestRow, out: ByteWriter): void {
  out.reserve(8);
  new DataView(out.buf.buffer, out.buf.byteOffset + out.length, 8).setBigUint64(0, row.id, true);
  out.length += 8;
  writeString(row.name, out);
  out.writeU32(row.x);
  out.writeU32(row.y);
  out.writeU32(row.z);
}

export function decodeTestRow(reader: BufReader): TestRow {
  const id = reader.getU64Big();
  const name = readString(reader);
  return { id, name, x: reader.getU32(), y: reader.getU32(), z: reader.getU32() };
}

/** The row of the §10.5 worked example: `(u32, String)`. */
export interface ExampleRow {
  n: number;
  s: string;
}

export function encodeExampleRow(row: ExampleRow, out: ByteWriter): void {
  out.writeU32(row.n);
  writeString(row.s, out);
}

export function decodeExampleRow(reader: BufReader): ExampleRow {
  return { n: reader.getU32(), s: readString(reader) };
}

/** A visitor decoding the rows of every table with `decodeRow` (the reference's `MockVisitor`). */
export function rowVisitor<Row>(decodeRow: (reader: BufReader) => Row): TxdataVisitor<Row> {
  return {
    visitInsert: (_tableId, reader) => decodeRow(reader),
    visitDelete: (_tableId, reader) => decodeRow(reader),
    skipRow: (_tableId, reader) => void decodeRow(reader),
  };
}

export function encodeWith(write: (out: ByteWriter) => void): Uint8Array {
  const out = new ByteWriter(64);
  write(out);
  return out.bytes().slice();
}
