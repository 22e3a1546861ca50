/**
 * Names of the temporary files writers create in a log directory, and their removal by the next
 * writer. A writer killed between creating a temporary file and renaming it (compress, the
 * uncompress before a reset, ENOSPC on the way) leaves it behind; nothing reads it, but it holds disk
 * space. Whoever next takes the single-writer lock removes leftovers of these patterns, and only
 * those: a file a user put in the directory is never touched.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAGIC } from '../codec/segment-header.js';
import { ZSTD_FRAME_MAGIC } from '../compress/seekable.js';
import { messageOf } from '../errors.js';
import { debug } from '../debug.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `.<segment or index file name>.<6 random alphanumerics>.tmp`: what rewrites create now. */
const REWRITE_TEMP = /^\.\d{20}\.stdb\.(log|ofs)\.[A-Za-z0-9]{6}\.tmp$/;
/** What rewrites of earlier versions created (`.tmp` + 6 alphanumerics), removed only if a segment's bytes. */
const OLD_REWRITE_TEMP = /^\.tmp[A-Za-z0-9]{6}$/;
/** Leftovers of the link-based lock that the flock replaced (`.commitlog.lock.<12 hex digits>`). */
const OLD_LOCK_TEMP = /^\.commitlog\.lock\.[0-9a-f]{12}$/;

/** A fresh temporary name beside `target` (same directory, so the final rename is atomic). */
export function rewriteTempPath(target: string): string {
  let suffix = '';
  for (const b of randomBytes(6)) suffix += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return path.join(path.dirname(target), `.${path.basename(target)}.${suffix}.tmp`);
}

/** Whether a file of the old, generic name holds what only a segment rewrite writes (or nothing yet). */
function looksLikeOldRewrite(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(MAGIC.length);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n === 0) return true;
    if (n >= 4 && head.readUInt32LE(0) === ZSTD_FRAME_MAGIC) return true;
    return n === MAGIC.length && MAGIC.every((b, i) => head[i] === b);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Whether `name` in `dir` is a temporary file a killed writer of this library left. */
export function isLeftoverTemp(dir: string, name: string): boolean {
  if (REWRITE_TEMP.test(name) || OLD_LOCK_TEMP.test(name)) return true;
  return OLD_REWRITE_TEMP.test(name) && looksLikeOldRewrite(path.join(dir, name));
}

/**
 * Removes the leftovers in `dir`; returns their names. Call only while holding the directory's
 * single-writer lock: a live writer's temporary file is then impossible.
 */
export function removeLeftoverTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!isLeftoverTemp(dir, name)) continue;
    try {
      fs.rmSync(path.join(dir, name), { force: true });
      removed.push(name);
      debug('removed %s, left by an interrupted writer', name);
    } catch (e) {
      debug('could not remove %s: %s', name, messageOf(e));
    }
  }
  return removed;
}
