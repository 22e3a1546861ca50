/** A cursor over a commit's records, handed to decoders (the reference's `BufReader`). */
import { readU16, readU32, readU64 } from '../codec/u64.js';
import { DecodeError } from '../errors.js';

export class BufReader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Consumes `n` bytes and returns where they start; `forType` names what was read (for the error). */
  private need(n: number, forType: string | null): number {
    const at = this.pos;
    if (this.bytes.length - at < n) {
      throw DecodeError.bufferLength(forType ?? `[u8; ${n}]`, n, this.bytes.length - at);
    }
    this.pos = at + n;
    return at;
  }

  /** Advances past `n` bytes without looking at them. */
  skip(n: number): void {
    this.need(n, null);
  }

  getU8(): number {
    return this.bytes[this.need(1, 'u8')]!;
  }

  getU16(): number {
    return readU16(this.bytes, this.need(2, 'u16'));
  }

  getU32(): number {
    return readU32(this.bytes, this.need(4, 'u32'));
  }

  /** A u64 that must fit a JS number exactly. */
  getU64(): number {
    const v = readU64(this.bytes, this.need(8, 'u64'));
    if (v > Number.MAX_SAFE_INTEGER) throw new DecodeError('Other', `u64 ${v} exceeds Number.MAX_SAFE_INTEGER`);
    return v;
  }

  /** A u64 of any size. */
  getU64Big(): bigint {
    const at = this.need(8, 'u64');
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + at, 8).getBigUint64(0, true);
  }

  /** A view of the next `n` bytes (not copied). */
  getSlice(n: number): Uint8Array {
    const at = this.need(n, null);
    return this.bytes.subarray(at, at + n);
  }

  /** A copy of the next `n` bytes. */
  getArray(n: number): Uint8Array {
    const at = this.need(n, null);
    return this.bytes.slice(at, at + n);
  }
}
