/**
 * The single-writer lock of a log directory (SPEC §11A, a project addition): `commitlog.lock` holds
 * one line of JSON naming the owner. It is created atomically (written to a temporary file, then
 * hard-linked into place, which fails if it exists), so it is never seen half-written. A lock whose
 * process is gone on this host is stale and taken over; any other lock is refused with `LockedError`.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LockedError, fromSystemError } from '../errors.js';
import { debug } from '../debug.js';

export const LOCK_FILE_NAME = 'commitlog.lock';

export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
}

export interface DirLock {
  readonly path: string;
  release(): void;
}

function readOwner(file: string): LockOwner | null {
  try {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return typeof owner === 'object' && owner !== null ? owner : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Takes the lock of `dir` or throws `LockedError`. */
export function acquireDirLock(dir: string): DirLock {
  const lockPath = path.join(dir, LOCK_FILE_NAME);
  const content = JSON.stringify({ pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString() });
  const tmp = path.join(dir, `.${LOCK_FILE_NAME}.${randomBytes(6).toString('hex')}`);
  try {
    fs.writeFileSync(tmp, content + '\n', { flag: 'wx' });
  } catch (e) {
    throw fromSystemError(e, `create ${tmp}`);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(tmp, lockPath);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(e, `lock ${lockPath}`);
      }
      const owner = readOwner(lockPath);
      const stale =
        owner !== null && owner.hostname === os.hostname() && Number.isInteger(owner.pid) && !isAlive(owner.pid);
      if (!stale || attempt > 0) throw new LockedError(lockPath, owner);
      debug('taking over the stale lock of pid %d in %s', owner.pid, dir);
      fs.rmSync(lockPath, { force: true });
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  let held = true;
  return {
    path: lockPath,
    release(): void {
      if (!held) return;
      held = false;
      try {
        // Only our own lock is removed: a stale-lock takeover may have replaced it.
        if (fs.readFileSync(lockPath, 'utf8').trim() === content) fs.rmSync(lockPath, { force: true });
      } catch {
        // already gone
      }
    },
  };
}
