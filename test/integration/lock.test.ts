/** The single-writer lock (SPEC §11A): one writer per directory, stale locks taken over, readers free. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Commitlog,
  InvalidDataError,
  LockedError,
  StreamWriter,
  commits,
  resetTo,
  segmentFileName,
} from '../../src/index.js';

const LOCK = 'commitlog.lock';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-lock-'));
  dirs.push(d);
  return d;
}

function writeSome(dir: string, n = 5): void {
  const log = Commitlog.open(dir);
  for (let i = 0; i < n; i++) {
    log.append(new Uint8Array([i]));
    log.flush();
  }
  log.close();
}

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('single-writer lock', () => {
  it('a second writer is refused while the first is open, and admitted after close', () => {
    const dir = tmpDir();
    const log = Commitlog.open(dir);
    const owner = JSON.parse(fs.readFileSync(path.join(dir, LOCK), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, hostname: os.hostname() });
    expect(typeof owner.startedAt).toBe('string');
    let err: unknown;
    try {
      Commitlog.open(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LockedError);
    expect((err as LockedError).code).toBe('LOCKED');
    expect((err as LockedError).message).toContain(String(process.pid));
    expect(() => StreamWriter.create(dir)).toThrow(LockedError);
    expect(() => resetTo(dir, 0)).toThrow(LockedError);
    log.close();
    expect(fs.existsSync(path.join(dir, LOCK))).toBe(false);
    Commitlog.open(dir).close();
  });

  it('readers do not need the lock', () => {
    const dir = tmpDir();
    writeSome(dir);
    const log = Commitlog.open(dir);
    expect([...commits(dir)].length).toBe(5);
    log.close();
  });

  it('reset and resetTo keep the lock; the lock is released by close', () => {
    const dir = tmpDir();
    writeSome(dir);
    let log = Commitlog.open(dir);
    log = log.resetTo(2);
    expect(() => Commitlog.open(dir)).toThrow(LockedError);
    log = log.reset();
    expect(() => Commitlog.open(dir)).toThrow(LockedError);
    log.close();
    expect(fs.existsSync(path.join(dir, LOCK))).toBe(false);
  });

  it('a failed open releases the lock', () => {
    const dir = tmpDir();
    writeSome(dir, 1);
    // a complete but corrupt first commit: open refuses (Q45) and must not leave the lock behind
    const file = path.join(dir, segmentFileName(0));
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(file, bytes);
    expect(() => Commitlog.open(dir)).toThrow(InvalidDataError);
    expect(fs.existsSync(path.join(dir, LOCK))).toBe(false);
  });

  it('a stale lock of a dead process on this host is taken over', () => {
    const dir = tmpDir();
    const stale = { pid: deadPid(), hostname: os.hostname(), startedAt: '2020-01-01T00:00:00.000Z' };
    fs.writeFileSync(path.join(dir, LOCK), JSON.stringify(stale) + '\n');
    const log = Commitlog.open(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK), 'utf8')).pid).toBe(process.pid);
    log.close();
  });

  it('a writer killed with SIGKILL leaves a lock that the next writer takes over', () => {
    const dir = tmpDir();
    const index = path.resolve('dist/src/index.js');
    const script = `import(${JSON.stringify(index)}).then(({ Commitlog }) => {
      const log = Commitlog.open(${JSON.stringify(dir)});
      log.append(new Uint8Array([1])); log.flush();
      process.kill(process.pid, 'SIGKILL');
    });`;
    const r = spawnSync(process.execPath, ['-e', script]);
    expect(r.signal).toBe('SIGKILL');
    expect(fs.existsSync(path.join(dir, LOCK))).toBe(true);
    const log = Commitlog.open(dir);
    expect(log.maxCommittedOffset()).toBe(0);
    log.close();
  });

  it('locks of live processes and of other hosts are never broken', () => {
    const dir = tmpDir();
    for (const owner of [
      { pid: process.ppid, hostname: os.hostname(), startedAt: 'x' },
      { pid: deadPid(), hostname: `not-${os.hostname()}`, startedAt: 'x' },
    ]) {
      fs.writeFileSync(path.join(dir, LOCK), JSON.stringify(owner));
      expect(() => Commitlog.open(dir)).toThrow(LockedError);
      expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK), 'utf8'))).toEqual(owner);
    }
  });

  it('StreamWriter holds the lock until close', async () => {
    const dir = tmpDir();
    const w = StreamWriter.create(dir);
    expect(() => Commitlog.open(dir)).toThrow(LockedError);
    await w.close();
    Commitlog.open(dir).close();
  });
});
