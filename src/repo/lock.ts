/**
 * The single-writer lock of a log directory (SPEC §11A, a project addition). The lock is an advisory
 * `flock(2)` (LOCK_EX | LOCK_NB) that the kernel holds on an open file description of
 * `commitlog.lock`: it is taken or refused atomically, and it goes away with the descriptor, so a
 * writer that dies (even by SIGKILL) releases it and there is no staleness to judge. flock belongs to
 * the open file description, not to the process, so a second `open` of the same directory in the same
 * process is refused too.
 *
 * The file's content, one line of JSON `{pid, hostname, startedAt}` written by the holder once it has
 * the lock, only names the holder in `LockedError`; it never decides anything. The file is never
 * removed: unlinking it would let a waiter hold the old inode while a newcomer locks a new one.
 *
 * Guarantees hold between processes of one host on a local file system; flock over NFS or other
 * network file systems is emulated or unsupported, and the lock is advisory (a process that does not
 * take it is not stopped).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { IoError, LockedError, fromSystemError, messageOf } from '../errors.js';
import { debug } from '../debug.js';
import { removeLeftoverTempFiles } from './temp-files.js';

export const LOCK_FILE_NAME = 'commitlog.lock';

/** Longest owner record read back; the holder writes well under 1 KiB. */
const MAX_OWNER_BYTES = 4096;

export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
}

export interface DirLock {
  readonly path: string;
  release(): void;
}

interface Flock {
  flockSync(fd: number, flags: 'exnb' | 'un'): void;
}

let flockModule: Flock | null = null;

/** Loaded on the first lock only: readers never need the native addon. */
function flockImpl(): Flock {
  if (flockModule === null) {
    try {
      flockModule = createRequire(import.meta.url)('fs-ext') as Flock;
    } catch (e) {
      throw new IoError(
        `cannot load the native flock addon (package fs-ext), needed to lock a log for writing: ${messageOf(e)}; ` +
          'reinstall the dependencies (npm ci) with a C++ toolchain available',
        { cause: e },
      );
    }
  }
  return flockModule;
}

function isWouldBlock(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/** The recorded holder, or null when the file is empty, partly written or not ours to parse. */
function readOwner(fd: number): LockOwner | null {
  try {
    const buf = Buffer.alloc(MAX_OWNER_BYTES);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const owner = JSON.parse(buf.toString('utf8', 0, n)) as unknown;
    if (typeof owner !== 'object' || owner === null) return null;
    const o = owner as Record<string, unknown>;
    if (!Number.isSafeInteger(o.pid) || typeof o.hostname !== 'string' || typeof o.startedAt !== 'string') return null;
    return { pid: o.pid as number, hostname: o.hostname, startedAt: o.startedAt };
  } catch {
    return null;
  }
}

/**
 * Records this process as the holder. Best effort: on a full disk the lock is still held (a writer
 * must be able to open the log to prune or reset it), the file is left empty and a refused writer's
 * `LockedError` says the holder is unnamed.
 */
function writeOwner(fd: number, lockPath: string): void {
  const content = Buffer.from(
    JSON.stringify({ pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString() }) + '\n',
  );
  try {
    // Overwrite in place, then cut what an older, longer record left: never an empty window.
    fs.writeSync(fd, content, 0, content.length, 0);
    fs.ftruncateSync(fd, content.length);
  } catch (e) {
    debug('could not record the lock holder in %s: %s', lockPath, messageOf(e));
    try {
      fs.ftruncateSync(fd, 0);
    } catch {
      // the record is informational; a partial one reads back as unnamed
    }
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // nothing left to release
  }
}

/** Whether `fd` is still the file at `lockPath` (not unlinked or replaced since it was opened). */
function isCurrent(fd: number, lockPath: string): boolean {
  try {
    const a = fs.fstatSync(fd);
    const b = fs.statSync(lockPath);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** Takes the lock of `dir` or throws `LockedError` (another descriptor holds it) or an I/O error. */
export function acquireDirLock(dir: string): DirLock {
  const { flockSync } = flockImpl();
  const lockPath = path.join(dir, LOCK_FILE_NAME);
  // Someone deleting the file between our open and our flock would leave us holding an orphan
  // inode; the check after locking catches that, and a retry locks the file that is there now.
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    } catch (e) {
      throw fromSystemError(e, `open lock file ${lockPath}`);
    }
    try {
      flockSync(fd, 'exnb');
    } catch (e) {
      const owner = isWouldBlock(e) ? readOwner(fd) : null;
      closeQuietly(fd);
      if (isWouldBlock(e)) throw new LockedError(lockPath, owner);
      throw fromSystemError(e, `flock ${lockPath}`);
    }
    if (!isCurrent(fd, lockPath)) {
      closeQuietly(fd);
      if (attempt < 10) continue;
      throw new IoError(`lock file ${lockPath} keeps being replaced while it is locked; is something deleting it?`);
    }
    writeOwner(fd, lockPath);
    // Holding the lock, no other writer of this directory can be mid-rewrite: what is there is left over.
    removeLeftoverTempFiles(dir);
    return heldLock(fd, lockPath);
  }
}

function heldLock(fd: number, lockPath: string): DirLock {
  let held = true;
  return {
    path: lockPath,
    release(): void {
      if (!held) return;
      held = false;
      // Clear the record first so a writer refused in the next instant names no one who is gone;
      // then unlock and close (closing alone would release it; the explicit unlock says so).
      try {
        fs.ftruncateSync(fd, 0);
      } catch {
        // informational only
      }
      try {
        flockImpl().flockSync(fd, 'un');
      } catch {
        // close below releases it in any case
      }
      closeQuietly(fd);
    },
  };
}
