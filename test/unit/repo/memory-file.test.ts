/**
 * The in-memory segment (SPEC §13.5 M1) and the MemoryRepo rules of §2.7. The reference test uses a
 * cursor (`seek` + `read`); `StorageFile` is positional, so the test keeps the cursor itself and
 * reads at the position the reference's seeks would reach.
 */
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, MemoryBuffer, MemoryFile, MemoryRepo, NotFoundError } from '../../../src/index.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Reads up to `len` bytes at `pos`, like `Read::read` after a seek. */
function readAt(file: MemoryFile, pos: number, len: number): { n: number; bytes: Uint8Array } {
  const buf = new Uint8Array(len);
  const n = file.read(buf, 0, len, pos);
  return { n, bytes: buf.subarray(0, n) };
}

describe('M1 memory segment read/write/seek', () => {
  it('write "alonso", then reads at seek positions', () => {
    const file = new MemoryFile(new MemoryBuffer(), true);
    const data = new TextEncoder().encode('alonso');
    file.append(data, 0, data.length);
    expect(file.size()).toBe(6);

    // seek(Start(0)); read 6
    let pos = 0;
    let r = readAt(file, pos, 6);
    expect(r.n).toBe(6);
    expect(text(r.bytes)).toBe('alonso');
    pos += r.n;

    // seek(Start(2)); read into a 6-byte buffer → 4 bytes
    pos = 2;
    r = readAt(file, pos, 6);
    expect(r.n).toBe(4);
    expect(text(r.bytes)).toBe('onso');
    pos += r.n;

    // seek(Current(-4)) → 2; read → "onso"
    pos -= 4;
    expect(pos).toBe(2);
    r = readAt(file, pos, 6);
    expect(text(r.bytes)).toBe('onso');
    pos += r.n;

    // seek(End(-3)) → 3; read → 3 bytes "nso"
    pos = file.size() - 3;
    r = readAt(file, pos, 6);
    expect(r.n).toBe(3);
    expect(text(r.bytes)).toBe('nso');
  });

  it('a read at or past the end returns 0', () => {
    const file = new MemoryFile(new MemoryBuffer(), true);
    file.append(Uint8Array.of(1, 2, 3), 0, 3);
    expect(readAt(file, 3, 4).n).toBe(0);
    expect(readAt(file, 10, 4).n).toBe(0);
  });

  it('appends always land at the end; handles share the buffer', () => {
    const buffer = new MemoryBuffer();
    const a = new MemoryFile(buffer, true);
    const b = new MemoryFile(buffer, true);
    a.append(Uint8Array.of(1, 2), 0, 2);
    b.append(Uint8Array.of(9, 3, 4), 1, 2);
    expect(Array.from(buffer.bytes())).toEqual([1, 2, 3, 4]);
    const ro = new MemoryFile(buffer, false);
    expect(readAt(ro, 0, 8).bytes).toEqual(Uint8Array.of(1, 2, 3, 4));
  });

  it('truncate cuts or zero-extends', () => {
    const file = new MemoryFile(new MemoryBuffer(), true);
    file.append(Uint8Array.of(1, 2, 3, 4), 0, 4);
    file.truncate(2);
    expect(file.size()).toBe(2);
    file.truncate(5);
    expect(readAt(file, 0, 8).bytes).toEqual(Uint8Array.of(1, 2, 0, 0, 0));
  });

  it('writes through a read-only or closed handle fail', () => {
    const buffer = new MemoryBuffer();
    const ro = new MemoryFile(buffer, false);
    expect(() => ro.append(Uint8Array.of(1), 0, 1)).toThrow();
    expect(() => ro.truncate(0)).toThrow();
    const rw = new MemoryFile(buffer, true);
    rw.close();
    expect(() => rw.append(Uint8Array.of(1), 0, 1)).toThrow();
    expect(buffer.length).toBe(0);
  });
});

describe('MemoryRepo (§2.7)', () => {
  it('createSegment reuses an existing empty segment, refuses a non-empty one', () => {
    const repo = new MemoryRepo();
    repo.createSegment(0);
    const again = repo.createSegment(0);
    again.append(Uint8Array.of(1), 0, 1);
    expect(() => repo.createSegment(0)).toThrow(AlreadyExistsError);
  });

  it('existingOffsets is ascending', () => {
    const repo = new MemoryRepo();
    for (const o of [20, 0, 10]) repo.createSegment(o);
    expect(repo.existingOffsets()).toEqual([0, 10, 20]);
  });

  it('missing segments → NotFound for writer, reader and remove', () => {
    const repo = new MemoryRepo();
    expect(() => repo.openSegmentWriter(3)).toThrow(NotFoundError);
    expect(() => repo.openSegmentReader(3)).toThrow(NotFoundError);
    expect(() => repo.removeSegment(3)).toThrow(NotFoundError);
  });

  it('without the offsetIndex option there is no index, like the reference', () => {
    const repo = new MemoryRepo();
    repo.createSegment(0);
    expect(() => repo.createOffsetIndex(0, 4)).toThrow();
    expect(() => repo.getOffsetIndex(0)).toThrow();
  });

  it('with offsetIndex: cap × 16 bytes, resized on re-create, removed with the segment', () => {
    const repo = new MemoryRepo({ offsetIndex: true });
    repo.createSegment(0);
    expect(repo.createOffsetIndex(0, 4).size()).toBe(64);
    expect(repo.createOffsetIndex(0, 2).size()).toBe(32);
    expect(repo.getOffsetIndex(0).size()).toBe(32);
    repo.removeSegment(0);
    expect(() => repo.getOffsetIndex(0)).toThrow(NotFoundError);
  });
});
