/**
 * The single-writer lock (SPEC §11A, issue 16 §1): an flock(2) on an open file description of
 * `commitlog.lock`, released when its holder closes or dies; the JSON in the file only names the holder.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DurableLog } from '../../src/durable/durable-log.js';
import { InvalidDataError, LockedError } from '../../src/errors.js';
import { Commitlog } from '../../src/log/commitlog.js';
import { GenericLog } from '../../src/log/generic-log.js';
import { commits, resetTo } from '../../src/log/free.js';
import { FaultyRepo } from '../../src/repo/faulty.js';
import { FsRepo } from '../../src/repo/fs.js';
import { LOCK_FILE_NAME, acquireDirLock } from '../../src/repo/lock.js';
import { MemoryRepo } from '../../src/repo/memory.js';
import { segmentFileName } from '../../src/repo/repo.js';
import { StreamWriter } from '../../src/stream/writer.js';

const LOCK = LOCK_FILE_NAME;
const INDEX = path.resolve('dist/src/index.js');
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

function lockedError(f: () => unknown): LockedError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LockedError);
    return e as LockedError;
  }
  throw new Error('expected LockedError, nothing was thrown');
}

function owner(dir: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(dir, LOCK), 'utf8'));
}

/** Runs `body` (a script over the built library, `lib` in scope) in a child; resolves with its first stdout line. */
function child(body: string): { ready: Promise<string>; proc: ReturnType<typeof spawn> } {
  const script = `import(${JSON.stringify(INDEX)}).then(async (lib) => { ${body} });`;
  const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    proc.on('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before reporting`)));
  });
  return { ready, proc };
}

function exited(proc: ReturnType<typeof spawn>): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.signalCode);
    else proc.on('exit', (_c, s) => resolve(s));
  });
}

describe('single-writer lock', () => {
  it('in one process: a second open of the same directory is refused by every writer, and admitted after close', async () => {
    const dir = tmpDir();
    const log = Commitlog.open(dir);
    const held = owner(dir) as { pid: number; hostname: string; startedAt: string };
    expect(held).toMatchObject({ pid: process.pid, hostname: os.hostname() });
    expect(Number.isNaN(Date.parse(held.startedAt))).toBe(false);
    const err = lockedError(() => Commitlog.open(dir));
    expect(err.code).toBe('LOCKED');
    expect(err.holder).toEqual(held);
    expect(err.message).toContain(`pid ${process.pid} on ${os.hostname()} (since ${held.startedAt})`);
    expect(err.message).toContain('do not delete the lock file');
    lockedError(() => GenericLog.open(new FsRepo(dir)));
    lockedError(() => StreamWriter.create(dir));
    lockedError(() => resetTo(dir, 0));
    lockedError(() => DurableLog.open(dir));
    lockedError(() => acquireDirLock(dir));
    // Refused attempts closed their own descriptors: that must not have released the holder's lock.
    lockedError(() => Commitlog.open(dir));
    expect(owner(dir)).toEqual(held);
    log.close();
    // The file stays (never unlinked), emptied so that no one gone is named; the lock is free.
    expect(fs.readFileSync(path.join(dir, LOCK), 'utf8')).toBe('');
    const again = Commitlog.open(dir);
    lockedError(() => Commitlog.open(dir));
    again.close();
    const durable = DurableLog.open(dir);
    lockedError(() => Commitlog.open(dir));
    await durable.close();
    Commitlog.open(dir).close();
  });

  it('release is idempotent and releases only its own hold', () => {
    const dir = tmpDir();
    const a = acquireDirLock(dir);
    a.release();
    const b = acquireDirLock(dir);
    a.release(); // a second release of a must not drop b
    lockedError(() => acquireDirLock(dir));
    b.release();
    acquireDirLock(dir).release();
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
    lockedError(() => Commitlog.open(dir));
    log = log.reset();
    lockedError(() => Commitlog.open(dir));
    log.close();
    Commitlog.open(dir).close();
  });

  it('a failed open releases the lock', () => {
    const dir = tmpDir();
    writeSome(dir, 1);
    // a complete but corrupt first commit: open refuses (Q45) and must not keep the lock
    const file = path.join(dir, segmentFileName(0));
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(file, bytes);
    expect(() => Commitlog.open(dir)).toThrow(InvalidDataError);
    acquireDirLock(dir).release();
  });

  it('a lock file naming a dead pid, a live unrelated pid, another host, or garbage decides nothing', () => {
    const dir = tmpDir();
    writeSome(dir, 1);
    for (const content of [
      JSON.stringify({ pid: deadPid(), hostname: os.hostname(), startedAt: '2020-01-01T00:00:00.000Z' }),
      JSON.stringify({ pid: 1, hostname: os.hostname(), startedAt: 'x' }),
      JSON.stringify({ pid: process.ppid, hostname: os.hostname(), startedAt: 'x' }),
      JSON.stringify({ pid: deadPid(), hostname: `not-${os.hostname()}`, startedAt: 'x'.repeat(500) }),
      '{"pid": 12',
      'x'.repeat(10_000),
    ]) {
      fs.writeFileSync(path.join(dir, LOCK), content);
      const log = Commitlog.open(dir);
      // Ours replaces the record whole, also a longer one.
      expect(owner(dir)).toMatchObject({ pid: process.pid, hostname: os.hostname() });
      log.close();
    }
  });

  it('a holder that could not record itself is refused as unnamed', () => {
    const dir = tmpDir();
    const lock = acquireDirLock(dir);
    fs.truncateSync(path.join(dir, LOCK), 0);
    const err = lockedError(() => Commitlog.open(dir));
    expect(err.holder).toBeNull();
    expect(err.message).toContain('another writer (not named in the lock file)');
    lock.release();
  });

  it('a lock attempt whose owner record hits ENOSPC still locks and leaves no other file behind', () => {
    const dir = tmpDir();
    // Every write to /dev/full fails with ENOSPC: the record of the holder cannot be written.
    fs.symlinkSync('/dev/full', path.join(dir, LOCK));
    const lock = acquireDirLock(dir);
    const err = lockedError(() => acquireDirLock(dir));
    expect(err.holder).toBeNull();
    expect(fs.readdirSync(dir)).toEqual([LOCK]);
    lock.release();
    acquireDirLock(dir).release();
    expect(fs.readdirSync(dir)).toEqual([LOCK]);
  });

  it('removes the temporary files of the old link-based lock, and only those', () => {
    const dir = tmpDir();
    writeSome(dir, 1);
    const leftovers = ['.commitlog.lock.0123456789ab', '.commitlog.lock.fedcba987654'];
    const kept = ['.commitlog.lock.0123456789', '.commitlog.lock.0123456789abX', 'commitlog.lock.0123456789ab', 'notes.txt'];
    for (const n of [...leftovers, ...kept]) fs.writeFileSync(path.join(dir, n), '{}');
    Commitlog.open(dir).close();
    expect(fs.readdirSync(dir).filter((n) => !n.includes('.stdb.')).sort()).toEqual([...kept, LOCK].sort());
  });

  it('a holder killed with SIGKILL releases the lock; while alive it is named', async () => {
    const dir = tmpDir();
    writeSome(dir, 1);
    const { ready, proc } = child(`
      const log = lib.Commitlog.open(${JSON.stringify(dir)});
      log.append(new Uint8Array([9])); log.flush();
      process.stdout.write('held\\n');
      setInterval(() => {}, 1000);`);
    expect(await ready).toBe('held');
    const err = lockedError(() => Commitlog.open(dir));
    expect(err.holder?.pid).toBe(proc.pid);
    expect(err.message).toContain(`pid ${proc.pid}`);
    proc.kill('SIGKILL');
    expect(await exited(proc)).toBe('SIGKILL');
    const log = Commitlog.open(dir);
    expect(log.maxCommittedOffset()).toBe(1);
    expect(owner(dir)).toMatchObject({ pid: process.pid });
    log.close();
  });

  it('a child process of the holder does not inherit the lock', async () => {
    const dir = tmpDir();
    const { ready, proc } = child(`
      const log = lib.Commitlog.open(${JSON.stringify(dir)});
      const { spawn } = await import('node:child_process');
      const sleeper = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
      sleeper.unref();
      process.stdout.write(sleeper.pid + '\\n');
      process.kill(process.pid, 'SIGKILL');`);
    const sleeper = Number(await ready);
    try {
      expect(await exited(proc)).toBe('SIGKILL');
      process.kill(sleeper, 0); // still alive, and the lock is free all the same
      Commitlog.open(dir).close();
    } finally {
      process.kill(sleeper, 'SIGKILL');
    }
  });

  it('StreamWriter holds the lock until close', async () => {
    const dir = tmpDir();
    const w = StreamWriter.create(dir);
    lockedError(() => Commitlog.open(dir));
    await w.close();
    Commitlog.open(dir).close();
  });

  it('FaultyRepo over FsRepo: crash() drops the dead writer’s lock, as the kernel would', () => {
    const dir = tmpDir();
    const faulty = new FaultyRepo(new FsRepo(dir));
    const log = GenericLog.open(faulty);
    log.append(new Uint8Array([1]));
    log.commit();
    lockedError(() => GenericLog.open(new FsRepo(dir)));
    faulty.crash();
    const reopened = GenericLog.open(new FsRepo(dir));
    expect(reopened.maxCommittedOffset()).toBe(0);
    try {
      log.close(); // the dead log's handles are gone; its release must not touch the new holder's lock
    } catch {
      // FaultyRepo refuses the dead handles with a plain Error
    }
    lockedError(() => GenericLog.open(new FsRepo(dir)));
    reopened.close();
  });

  it('MemoryRepo has no lock and needs none: a log over it opens and closes', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo);
    log.append(new Uint8Array([1]));
    log.commit();
    log.close();
    expect(GenericLog.open(repo).maxCommittedOffset()).toBe(0);
  });
});
