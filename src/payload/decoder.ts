/** Encode/decode contracts for records (SPEC §10.1) and the built-in raw-bytes codecs. */
import type { BufReader } from './buf-reader.js';
import type { ByteWriter } from './byte-writer.js';

/** Appends one record's bytes to `out`; the log adds no length prefix. */
export interface Encoder<T> {
  encodeRecord(record: T, out: ByteWriter): void;
}

/**
 * Reads exactly one record from `reader`, a cursor shared by the `n` records of a commit.
 * `version` is the segment header's log format version; `txOffset` the record's offset.
 */
export interface Decoder<T> {
  decodeRecord(version: number, txOffset: number, reader: BufReader): T;
  /** Decode for side effects only (folds). Defaults to `decodeRecord` with the result dropped. */
  consumeRecord?(version: number, txOffset: number, reader: BufReader): void;
  /** Advance past a record before the requested start offset. */
  skipRecord(version: number, txOffset: number, reader: BufReader): void;
}

/** Records written verbatim (`Uint8Array`), the default when a log has no encoder. */
export const rawEncoder: Encoder<Uint8Array> = {
  encodeRecord(record, out) {
    out.write(record);
  },
};

/**
 * Fixed-size records of `n` bytes (Rust `[u8; N]`). Records are views into the commit's records, which
 * traversal hands out as a private copy: no second copy per record (a kept record keeps its commit's
 * bytes alive).
 */
export class ArrayDecoder implements Decoder<Uint8Array> {
  constructor(readonly n: number) {}
  decodeRecord(_version: number, _txOffset: number, reader: BufReader): Uint8Array {
    return reader.getSlice(this.n);
  }
  skipRecord(_version: number, _txOffset: number, reader: BufReader): void {
    reader.skip(this.n);
  }
}

/**
 * Treats everything left in the commit as one record: exact for logs with one record per commit (what
 * SpacetimeDB writes); in a commit of n > 1 records the first gets all the bytes and the rest none.
 */
export const rawDecoder: Decoder<Uint8Array> = {
  decodeRecord(_version, _txOffset, reader) {
    return reader.getSlice(reader.remaining);
  },
  skipRecord(_version, _txOffset, reader) {
    reader.skip(reader.remaining);
  },
};
