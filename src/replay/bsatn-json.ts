/**
 * Rows as JSON read straight from their BSATN bytes into an output byte buffer, for `clog changes`:
 * the same bytes as the UTF-8 of `rowTextSerializer(columns)(codec.decode(row))`, without decoding the
 * row into objects or building strings (the package's decoder allocates a bigint per 64-bit integer
 * and a TextDecoder per string, and the strings then had to be joined and encoded again: the profile
 * showed a quarter of the time in the garbage collector). Integers, floats, bools, strings and byte
 * arrays are read here; any other column type is decoded by the package, that column alone, and
 * written as before.
 */
import { BinaryReader, rowCodec } from './stdb.js';
import type { AlgebraicType } from './stdb.js';
import type { ColumnSchema } from './system-tables.js';
import { fieldText } from './json-text.js';

/** A growing byte buffer of JSON text; `len` may be set back to a mark to drop what followed it. */
export class JsonOut {
  buf: Buffer;
  len = 0;

  constructor(capacity = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(x: number): void {
    this.ensure(1);
    this.buf[this.len++] = x;
  }

  bytes(src: Uint8Array, from = 0, to = src.length): void {
    const n = to - from;
    this.ensure(n);
    if (from === 0 && to === src.length) {
      // A whole array (keys, literals): a plain copy, no view to make.
      this.buf.set(src, this.len);
      this.len += n;
      return;
    }
    if (n > 64) {
      this.buf.set(src.subarray(from, to), this.len);
      this.len += n;
      return;
    }
    // Short runs by hand: `subarray` allocates a view per call, which cost more than the copy.
    const buf = this.buf;
    let at = this.len;
    for (let i = from; i < to; i++) buf[at++] = src[i]!;
    this.len = at;
  }

  /** Any string, as UTF-8. */
  text(s: string): void {
    this.ensure(s.length * 3);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  /** A string known to be ASCII (numbers): by hand, cheaper than the encoder's call for a few bytes. */
  ascii(s: string): void {
    this.ensure(s.length);
    const buf = this.buf;
    let at = this.len;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.len = at;
  }

  /** A non-negative safe integer in decimal. */
  uint(n: number): void {
    if (n < 10) return this.byte(48 + n);
    this.ensure(16);
    let digits = 0;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) digits++;
    let at = this.len + digits;
    this.len = at;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) this.buf[--at] = 48 + (m % 10);
  }

  /** A safe integer in decimal. */
  int(n: number): void {
    if (n < 0) {
      this.byte(0x2d);
      this.uint(-n);
    } else this.uint(n);
  }

  /** The bytes written so far, handed over (not copied: writing goes on in a new buffer). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.len);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.len = 0;
    return out;
  }
}

/** Where a writer is in the records it reads; one per reader, reused for every row. */
export class JsonCursor {
  pos = 0;
  bytes: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(new ArrayBuffer(0));
  private reader: BinaryReader | null = null;

  /** Points the cursor at another commit's records (a no-op for the same bytes). */
  use(bytes: Uint8Array): void {
    if (bytes === this.bytes) return;
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.reader = null;
  }

  /** The package's reader over the same bytes, at the cursor (for the columns decoded by the package). */
  binary(): BinaryReader {
    this.reader ??= new BinaryReader(this.bytes);
    this.reader.offset = this.pos;
    return this.reader;
  }

  need(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new RangeError(`needs ${n} byte(s) at byte ${this.pos}, but only ${this.bytes.length - this.pos} remain`);
    }
  }
}

type Field = (c: JsonCursor, o: JsonOut) => void;

const QUOTE = 0x22;
const TWO_32 = 2 ** 32;
/** |high word| below this: the 64-bit value is a safe integer, exact as a double. */
const SAFE_HIGH = 2 ** 21;
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const utf8 = new TextDecoder('utf-8');
/** The two hex digits of each byte value, as the 16-bit pair written in one store. */
const HEX_PAIRS = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  const s = i.toString(16).padStart(2, '0');
  HEX_PAIRS[i] = s.charCodeAt(0) | (s.charCodeAt(1) << 8);
}

/** Whether bytes `[from, to)` can stand in JSON text as they are: printable ASCII but `"` and `\`. */
function plainAscii(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const x = b[i]!;
    if (x < 0x20 || x > 0x7e || x === 0x22 || x === 0x5c) return false;
  }
  return true;
}

function stringField(c: JsonCursor, o: JsonOut): void {
  c.need(4);
  const len = c.view.getUint32(c.pos, true);
  const start = c.pos + 4;
  c.pos = start;
  c.need(len);
  const end = start + len;
  c.pos = end;
  if (plainAscii(c.bytes, start, end)) {
    o.ensure(len + 2);
    o.buf[o.len++] = QUOTE;
    o.bytes(c.bytes, start, end);
    o.buf[o.len++] = QUOTE;
  } else {
    // Escapes, or UTF-8 to check: what the decoding path does (invalid sequences become U+FFFD).
    o.text(JSON.stringify(utf8.decode(c.bytes.subarray(start, end))));
  }
}

function u64Field(c: JsonCursor, o: JsonOut): void {
  c.need(8);
  const lo = c.view.getUint32(c.pos, true);
  const hi = c.view.getUint32(c.pos + 4, true);
  o.byte(QUOTE);
  if (hi < SAFE_HIGH) o.uint(hi * TWO_32 + lo);
  else o.ascii(String(c.view.getBigUint64(c.pos, true)));
  o.byte(QUOTE);
  c.pos += 8;
}

function i64Field(c: JsonCursor, o: JsonOut): void {
  c.need(8);
  const lo = c.view.getUint32(c.pos, true);
  const hi = c.view.getInt32(c.pos + 4, true);
  o.byte(QUOTE);
  if (hi < SAFE_HIGH && hi >= -SAFE_HIGH) o.int(hi * TWO_32 + lo);
  else o.ascii(String(c.view.getBigInt64(c.pos, true)));
  o.byte(QUOTE);
  c.pos += 8;
}

function intField(n: number, read: (v: DataView, at: number) => number): Field {
  return (c, o) => {
    c.need(n);
    o.int(read(c.view, c.pos));
    c.pos += n;
  };
}

function floatField(n: 4 | 8): Field {
  return (c, o) => {
    c.need(n);
    const x = n === 4 ? c.view.getFloat32(c.pos, true) : c.view.getFloat64(c.pos, true);
    c.pos += n;
    if (Number.isInteger(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER && !Object.is(x, -0)) o.int(x);
    else if (Number.isFinite(x)) o.ascii(String(x));
    else o.ascii(`"${String(x)}"`);
  };
}

function boolField(c: JsonCursor, o: JsonOut): void {
  c.need(1);
  o.bytes(c.bytes[c.pos++] !== 0 ? TRUE : FALSE);
}

function bytesField(c: JsonCursor, o: JsonOut): void {
  c.need(4);
  const len = c.view.getUint32(c.pos, true);
  c.pos += 4;
  c.need(len);
  o.ensure(2 * len + 2);
  const buf = o.buf;
  let at = o.len;
  buf[at++] = QUOTE;
  const b = c.bytes;
  for (let i = c.pos, end = c.pos + len; i < end; i++) {
    const pair = HEX_PAIRS[b[i]!]!;
    buf[at++] = pair & 0xff;
    buf[at++] = pair >> 8;
  }
  buf[at++] = QUOTE;
  o.len = at;
  c.pos += len;
}

/** A column the package decodes (alone) and `fieldText` writes, as before. */
function decodedField(type: AlgebraicType): Field {
  const codec = rowCodec([{ name: 'v', type }]);
  const text = fieldText(type);
  return (c, o) => {
    const r = c.binary();
    const v = codec.decode(r).v;
    c.pos = r.offset;
    o.text(text(v));
  };
}

function field(type: AlgebraicType): Field {
  switch (type.tag) {
    case 'Bool':
      return boolField;
    case 'I8':
      return intField(1, (v, at) => v.getInt8(at));
    case 'U8':
      return intField(1, (v, at) => v.getUint8(at));
    case 'I16':
      return intField(2, (v, at) => v.getInt16(at, true));
    case 'U16':
      return intField(2, (v, at) => v.getUint16(at, true));
    case 'I32':
      return intField(4, (v, at) => v.getInt32(at, true));
    case 'U32':
      return intField(4, (v, at) => v.getUint32(at, true));
    case 'I64':
      return i64Field;
    case 'U64':
      return u64Field;
    case 'F32':
      return floatField(4);
    case 'F64':
      return floatField(8);
    case 'String':
      return stringField;
    case 'Array':
      if (type.value.tag === 'U8') return bytesField;
      break;
  }
  return decodedField(type);
}

/** Reads one row at the cursor, writes it as a JSON object to the output, leaves the cursor after it. */
export type BsatnJson = (c: JsonCursor, o: JsonOut) => void;

/** The writer for rows of `columns`; null where names repeat (the object path keeps one of them: use it). */
export function bsatnJsonWriter(columns: readonly ColumnSchema[]): BsatnJson | null {
  const names = columns.map((c) => c.name);
  if (new Set(names).size !== names.length) return null;
  const keys = names.map((n, i) => Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(n)}:`));
  const fields = columns.map((c) => field(c.type));
  const empty = Buffer.from('{}');
  if (fields.length === 0) return (_c, o) => o.bytes(empty);
  return (c, o) => {
    for (let i = 0; i < fields.length; i++) {
      o.bytes(keys[i]!);
      fields[i]!(c, o);
    }
    o.byte(0x7d);
  };
}
