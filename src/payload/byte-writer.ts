/** A growable output buffer handed to encoders. */
import { writeU16, writeU32, writeU64 } from '../codec/u64.js';

export class ByteWriter {
  buf: Uint8Array;
  length: number;

  constructor(initialCapacity = 4096, start = 0) {
    this.buf = new Uint8Array(Math.max(initialCapacity, start));
    this.length = start;
  }

  /** Makes room for `n` more bytes, doubling so appends stay amortised O(1). */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2 || 64;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  write(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  writeU8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v & 0xff;
  }

  writeU16(v: number): void {
    this.reserve(2);
    writeU16(this.buf, this.length, v);
    this.length += 2;
  }

  writeU32(v: number): void {
    this.reserve(4);
    writeU32(this.buf, this.length, v);
    this.length += 4;
  }

  writeU64(v: number): void {
    this.reserve(8);
    writeU64(this.buf, this.length, v);
    this.length += 8;
  }

  /** The bytes written so far (a view). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
