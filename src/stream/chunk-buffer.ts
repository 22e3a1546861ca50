/**
 * Accumulates an async source of byte chunks (split anywhere) into one contiguous window, so that
 * headers and commits can be decoded across chunk boundaries (QUIRK Q20 is not reproduced).
 */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export class ChunkBuffer {
  private buf = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;
  private eof = false;
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;

  constructor(source: ByteSource) {
    this.it =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
        : (source as Iterable<Uint8Array>)[Symbol.iterator]();
  }

  get available(): number {
    return this.end - this.start;
  }

  /** Waits until `n` bytes are buffered or the source ends; true if `n` bytes are there. */
  async fill(n: number): Promise<boolean> {
    while (this.end - this.start < n && !this.eof) {
      const r = await this.it.next();
      if (r.done) {
        this.eof = true;
        break;
      }
      this.push(r.value);
    }
    return this.end - this.start >= n;
  }

  private push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length <= this.buf.length && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = this.buf.length;
        while (cap < live + chunk.length) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** A view of the next `n` buffered bytes (valid until the next `fill`). */
  peek(n: number): Uint8Array {
    return this.buf.subarray(this.start, this.start + Math.min(n, this.end - this.start));
  }

  consume(n: number): void {
    this.start += Math.min(n, this.end - this.start);
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  /** Stops the source (on errors or when done early). */
  async close(): Promise<void> {
    await this.it.return?.();
  }
}
