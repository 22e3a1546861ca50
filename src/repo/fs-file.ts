/** `StorageFile` over a Node file descriptor, with synchronous calls. */
import * as fs from 'node:fs';
import { IoError, fromSystemError } from '../errors.js';
import type { StorageFile } from './repo.js';

export class FsFile implements StorageFile {
  private fd: number;
  /** Asynchronous fsyncs in flight, and whether a close waits for them. */
  private inFlight = 0;
  private closeRequested = false;

  constructor(
    fd: number,
    readonly path: string,
  ) {
    this.fd = fd;
  }

  /**
   * Segments are opened with an `a` flag (O_APPEND) like the reference, so appends always land at the
   * true end of the file; index files are opened `r+` and written at positions.
   */
  static open(path: string, flags: string | number): FsFile {
    return new FsFile(openFd(path, flags), path);
  }

  size(): number {
    try {
      return fs.fstatSync(this.fd).size;
    } catch (e) {
      throw fromSystemError(e, `stat ${this.path}`);
    }
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    try {
      return fs.readSync(this.fd, buf, offset, length, position);
    } catch (e) {
      throw fromSystemError(e, `read ${this.path}`);
    }
  }

  append(buf: Uint8Array, offset: number, length: number): void {
    this.writeLoop(buf, offset, length, null);
  }

  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    this.writeLoop(buf, offset, length, position);
  }

  private writeLoop(buf: Uint8Array, offset: number, length: number, position: number | null): void {
    let done = 0;
    try {
      while (done < length) {
        const pos = position === null ? null : position + done;
        const n = fs.writeSync(this.fd, buf, offset + done, length - done, pos);
        if (n <= 0) throw new IoError(`write ${this.path}: wrote zero bytes`, { errno: 'EIO' });
        done += n;
      }
    } catch (e) {
      throw fromSystemError(e, `write ${this.path}`);
    }
  }

  truncate(length: number): void {
    try {
      fs.ftruncateSync(this.fd, length);
    } catch (e) {
      throw fromSystemError(e, `truncate ${this.path}`);
    }
  }

  sync(): void {
    try {
      fs.fdatasyncSync(this.fd);
    } catch (e) {
      throw fromSystemError(e, `fdatasync ${this.path}`);
    }
  }

  syncAsync(): Promise<void> {
    if (this.fd < 0 || this.closeRequested) return Promise.reject(new IoError(`fdatasync ${this.path}: file is closed`, { errno: 'EBADF' }));
    this.inFlight++;
    return new Promise<void>((resolve, reject) => {
      fs.fdatasync(this.fd, (err) => {
        this.inFlight--;
        if (this.closeRequested && this.inFlight === 0) this.closeNow();
        if (err) reject(fromSystemError(err, `fdatasync ${this.path}`));
        else resolve();
      });
    });
  }

  close(): void {
    if (this.fd < 0 || this.closeRequested) return;
    if (this.inFlight > 0) {
      this.closeRequested = true;
      return;
    }
    this.closeNow();
  }

  /** Runs once, just before the descriptor is closed. */
  protected beforeClose(): void {}

  private closeNow(): void {
    this.beforeClose();
    const fd = this.fd;
    this.fd = -1;
    try {
      fs.closeSync(fd);
    } catch (e) {
      throw fromSystemError(e, `close ${this.path}`);
    }
  }
}

/** `open(2)` with the mode every file of a log gets; errors typed. */
export function openFd(path: string, flags: string | number): number {
  try {
    return fs.openSync(path, flags, 0o644);
  } catch (e) {
    throw fromSystemError(e, `open ${path}`);
  }
}
