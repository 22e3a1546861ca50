/**
 * Atomic replacement of a segment file on disk: write a temporary file in the same directory, fsync
 * it, rename it over the target, fsync the directory (Q19 FIX), so a crash leaves the old file or the
 * new one, never a mix. Used to compress and uncompress sealed segments.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ZstdSegmentFile } from '../compress/zstd-file.js';
import { writeSeekable } from '../compress/seekable-write.js';
import { fromSystemError } from '../errors.js';
import { FsFile } from './fs-file.js';
import type { StorageFile } from './repo.js';
import { rewriteTempPath } from './temp-files.js';

/** Bytes read from the source per write batch while rewriting. */
const COPY_CHUNK = 1024 * 1024;

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    throw fromSystemError(e, `fsync directory ${dir}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes `produce`'s output to a temp file and renames it over `target` durably. */
function replaceAtomically(target: string, produce: (out: StorageFile) => void): void {
  const dir = path.dirname(target);
  const tmp = rewriteTempPath(target);
  const out = FsFile.open(tmp, 'wx');
  try {
    produce(out);
    out.sync();
    out.close();
    fs.renameSync(tmp, target);
  } catch (e) {
    try {
      out.close();
    } catch {
      // already closed
    }
    fs.rmSync(tmp, { force: true });
    throw fromSystemError(e, `rewrite ${target}`);
  }
  fsyncDir(dir);
}

/** Rewrites the plain segment read through `source` as seekable zstd (4096-byte frames) at `target`. */
export function writeCompressed(source: StorageFile, target: string): void {
  replaceAtomically(target, (out) => writeSeekable(source, (bytes) => out.append(bytes, 0, bytes.length)));
}

/** Rewrites a compressed segment uncompressed (before it is truncated, Q18 FIX). */
export function writeUncompressed(source: ZstdSegmentFile, target: string): void {
  replaceAtomically(target, (out) => {
    const buf = new Uint8Array(COPY_CHUNK);
    const size = source.size();
    for (let pos = 0; pos < size; ) {
      const got = source.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (got <= 0) break;
      out.append(buf, 0, got);
      pos += got;
    }
  });
}
