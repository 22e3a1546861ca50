/**
 * The offset index file `*.stdb.ofs` (SPEC §3): fixed-size 16-byte entries `key u64 LE | value u64 LE`
 * (tx offset → byte position in the segment), zero-filled up to its capacity. The first zero key ends
 * the index (QUIRK Q37). The populated prefix is kept in memory; appends are written through at once.
 */
import { checkSafeOnDisk, readU64, writeU64 } from '../codec/u64.js';
import { IndexError } from '../errors.js';
import type { StorageFile } from '../repo/repo.js';

export const INDEX_ENTRY_LEN = 16;
/** Entries scanned per read when counting an index on open. */
const SCAN_ENTRIES = 4096;

export class IndexFile {
  private readonly keys: number[] = [];
  private readonly values: number[] = [];
  private fileLength: number;

  private constructor(
    private readonly file: StorageFile,
    private readonly writable: boolean,
  ) {
    this.fileLength = file.size();
    this.load();
  }

  /** Opens an index file, counting its entries. Throws `IndexError` if it cannot be read. */
  static open(file: StorageFile, writable: boolean): IndexFile {
    try {
      return new IndexFile(file, writable);
    } catch (e) {
      file.close();
      throw e instanceof IndexError ? e : IndexError.io(e);
    }
  }

  private load(): void {
    const whole = Math.floor(this.fileLength / INDEX_ENTRY_LEN);
    const buf = new Uint8Array(SCAN_ENTRIES * INDEX_ENTRY_LEN);
    for (let first = 0; first < whole; first += SCAN_ENTRIES) {
      const count = Math.min(SCAN_ENTRIES, whole - first);
      const want = count * INDEX_ENTRY_LEN;
      let got = 0;
      while (got < want) {
        const n = this.file.read(buf, got, want - got, first * INDEX_ENTRY_LEN + got);
        if (n <= 0) break;
        got += n;
      }
      const entries = Math.floor(got / INDEX_ENTRY_LEN);
      for (let i = 0; i < entries; i++) {
        const key = readU64(buf, i * INDEX_ENTRY_LEN);
        if (key === 0) return;
        this.keys.push(checkSafeOnDisk(key, 'offset index key'));
        this.values.push(checkSafeOnDisk(readU64(buf, i * INDEX_ENTRY_LEN + 8), 'offset index value'));
      }
      if (entries < count) return; // the file shrank under us: what we read is all there is
    }
  }

  get numEntries(): number {
    return this.keys.length;
  }

  get capacity(): number {
    return Math.floor(this.fileLength / INDEX_ENTRY_LEN);
  }

  private entryKey(i: number): number {
    if ((i + 1) * INDEX_ENTRY_LEN > this.fileLength) throw IndexError.outOfRange();
    return i < this.keys.length ? this.keys[i]! : 0;
  }

  /** Floor search: index of the greatest key ≤ `key` (SPEC §3.5). */
  findIndex(key: number): { key: number; index: number } {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const mid = low + Math.floor((high - low) / 2);
      if (this.entryKey(mid) > key) high = mid;
      else low = mid;
      if (high - low === 1) break;
    }
    const lowKey = this.entryKey(low);
    if (low === 0 && key < lowKey) throw IndexError.keyNotFound();
    if (lowKey === 0) throw IndexError.keyNotFound();
    return { key: lowKey, index: low };
  }

  /** The entry with the greatest key ≤ `key`, as `[key, bytePosition]`. */
  keyLookup(key: number): [number, number] {
    const { index } = this.findIndex(key);
    return [this.keys[index]!, this.values[index]!];
  }

  *entries(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.keys.length; i++) yield [this.keys[i]!, this.values[i]!];
  }

  append(key: number, value: number): void {
    const last = this.keys.length > 0 ? this.keys[this.keys.length - 1]! : 0;
    if (last >= key) throw IndexError.invalidInput(key, last);
    const n = this.keys.length;
    if ((n + 1) * INDEX_ENTRY_LEN > this.fileLength) throw IndexError.outOfRange();
    const entry = new Uint8Array(INDEX_ENTRY_LEN);
    writeU64(entry, 0, key);
    writeU64(entry, 8, value);
    this.write(entry, n * INDEX_ENTRY_LEN);
    this.keys.push(key);
    this.values.push(value);
  }

  /**
   * Removes every entry with key ≥ `key`. A key below the first entry (or an empty index) removes
   * everything (ADOPT-UPSTREAM #4501: 1.3.0 threw KeyNotFound there).
   */
  truncate(key: number): void {
    let found: number;
    let index: number;
    try {
      ({ key: found, index } = this.findIndex(key));
    } catch (e) {
      if (!(e instanceof IndexError) || e.code !== 'INDEX_KEY_NOT_FOUND') throw e;
      found = key;
      index = 0;
    }
    const keep = found === key ? index : index + 1;
    this.keys.length = keep;
    this.values.length = keep;
    this.zeroFrom(keep * INDEX_ENTRY_LEN);
    this.flush();
  }

  /** `msync(MS_ASYNC)`: entries are already in the OS, nothing to do. */
  asyncFlush(): void {}

  /** `msync(MS_SYNC)`. */
  flush(): void {
    try {
      this.file.sync();
    } catch (e) {
      throw IndexError.io(e);
    }
  }

  close(): void {
    try {
      this.file.close();
    } catch {
      // closing a read handle cannot lose data
    }
  }

  /**
   * Zeroes the file from `position` to its end, writing only where a byte is not zero already:
   * writing a 4 MiB buffer of zeros allocated every block of the sparse file (issue 16 §5: a trim on
   * a nearly full disk then failed with ENOSPC). Reading a hole allocates nothing; the bytes end up
   * as 1.3.0 leaves them.
   */
  private zeroFrom(position: number): void {
    const chunk = new Uint8Array(Math.min(64 * 1024, Math.max(0, this.fileLength - position)));
    for (let p = position; p < this.fileLength; p += chunk.length) {
      const want = Math.min(chunk.length, this.fileLength - p);
      let got = 0;
      try {
        while (got < want) {
          const n = this.file.read(chunk, got, want - got, p + got);
          if (n <= 0) break;
          got += n;
        }
      } catch (e) {
        throw IndexError.io(e);
      }
      let first = 0;
      while (first < got && chunk[first] === 0) first++;
      if (first === got) continue;
      let last = got;
      while (chunk[last - 1] === 0) last--;
      chunk.fill(0, first, last);
      this.write(chunk.subarray(first, last), p + first);
    }
  }

  private write(bytes: Uint8Array, position: number): void {
    if (!this.writable) throw IndexError.io(new Error('index file opened read-only'));
    try {
      this.file.writeAt(bytes, 0, bytes.length, position);
    } catch (e) {
      throw IndexError.io(e);
    }
  }
}
