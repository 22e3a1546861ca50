/** Shared CLI plumbing: exit codes, one-line errors, progress reporting. */
import cliProgress from 'cli-progress';
import {
  type LogSource,
  CommitlogError,
  DamagedCommitError,
  DecodeError,
  InvalidDataError,
  TraversalError,
  TraversalIoError,
  UnexpectedEofError,
} from '../index.js';
import { noSegmentsMessage } from '../api/ops.js';

export const EXIT_OK = 0;
/** The command ran and found problems (e.g. `verify`). */
export const EXIT_PROBLEMS = 1;
/** Usage or I/O errors. */
export const EXIT_ERROR = 2;

export class UsageError extends Error {
  readonly code = 'USAGE';
}

let debugEnabled = false;
export function setDebug(on: boolean): void {
  debugEnabled = on;
}

/** Prints an error as one line (with `code` for library errors); the stack only with --debug. */
export function reportError(e: unknown): number {
  const err = e as Error;
  process.stderr.write(`clog: ${err?.message ?? String(e)} [${errorCode(e)}]\n`);
  if (debugEnabled && err?.stack) process.stderr.write(err.stack + '\n');
  return isDataProblem(e) ? EXIT_PROBLEMS : EXIT_ERROR;
}

/** The bracketed code every error line ends with: the library's, a system call's (`ENOENT`), or INTERNAL. */
function errorCode(e: unknown): string {
  if (e instanceof CommitlogError) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'INTERNAL';
}

/**
 * Damage in the log itself (a bad commit, a gap, bytes that do not decode) is exit 1, the README's
 * "the data has problems"; usage and I/O errors stay 2.
 */
function isDataProblem(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 8; c = c.cause, depth++) {
    // A traversal I/O error is data damage only when its cause is (a real EIO stays exit 2).
    if (c instanceof TraversalError && !(c instanceof TraversalIoError)) return true;
    if (c instanceof DamagedCommitError || c instanceof InvalidDataError || c instanceof UnexpectedEofError) return true;
    if (c instanceof DecodeError) return true;
    if (c instanceof CommitlogError && c.code === 'TXDATA_DECODE') return true;
  }
  return false;
}

/**
 * The rule for a directory without segments (issue 17 §3): a command reading a log says so on stderr,
 * `clog: no commitlog segments (*.stdb.log) in DIR`, and goes on (it has nothing to show); only
 * `verify`, whose exit code vouches for the log, fails (exit 1) unless `--allow-empty`. Returns the
 * message (null when there are segments). A missing or unreadable directory is left to the command
 * itself, which refuses it (exit 2).
 */
export function noteIfNoSegments(dir: LogSource): string | null {
  const message = noSegments(dir);
  if (message !== null) process.stderr.write(`clog: ${message}\n`);
  return message;
}

/** `noteIfNoSegments` without the note. */
export function noSegments(dir: LogSource): string | null {
  try {
    return noSegmentsMessage(dir);
  } catch {
    return null;
  }
}

/**
 * Parses a non-negative safe integer argument. `name` is an option's long name (shown as typed,
 * `--from`) or, for the positional argument, `offset` (shown as `<offset>`).
 */
export function parseOffsetArg(value: string, name = 'offset'): number {
  name = name === 'offset' ? '<offset>' : name.startsWith('-') ? name : `--${name}`;
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`${name} must be a non-negative integer, got '${value}'`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${name} ${value} exceeds Number.MAX_SAFE_INTEGER`);
  return n;
}

/** A progress bar on a TTY, plain lines (at most one a second) otherwise. */
export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = 0;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    if (stream.isTTY) {
      this.bar = new cliProgress.SingleBar(
        { format: `${label} [{bar}] {percentage}% | {value}/{total} | {detail}`, stream, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.max(total, 1), 0, { detail: '' });
    }
  }

  update(value: number, detail = ''): void {
    if (this.bar) {
      if (value > this.total) {
        this.total = value;
        this.bar.setTotal(value);
      }
      this.bar.update(value, { detail });
      return;
    }
    const now = Date.now();
    if (now - this.lastLine >= 1000) {
      this.lastLine = now;
      this.stream.write(`${this.label}: ${value}${this.total ? `/${this.total}` : ''} ${detail}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}

/**
 * A one-line status for open-ended work with no total (`mirror --follow`): rewritten in place on a
 * TTY, else a plain line at most once a second, the latest text last (so a log that went quiet shows
 * where the copy stands, not where it was a second before).
 */
export class StatusLine {
  private lastLine = 0;
  private shown = false;
  private pending: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(text: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[K${text}`);
      this.shown = true;
      return;
    }
    const wait = this.lastLine + 1000 - Date.now();
    if (wait <= 0) return this.print(text);
    this.pending = text;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      if (this.pending !== null) this.print(this.pending);
    }, wait).unref();
  }

  private print(text: string): void {
    this.pending = null;
    this.lastLine = Date.now();
    this.stream.write(text + '\n');
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending !== null) this.print(this.pending);
    if (this.shown) this.stream.write('\n');
    this.shown = false;
  }
}

/** A count with thousands separators: `1,234,567`. */
export function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** A count and its noun, singular for one: `1 commit`, `12,000 commits`, `1 entry`, `2 entries`. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${num(n)} ${n === 1 ? noun : plural}`;
}

/** Binary units (KiB, MiB, GiB, the units of `--max-segment-size`) throughout. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** Keeps a server running until SIGINT or SIGTERM, then closes it and every open connection. */
export function serveUntilSignal(server: import('node:http').Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** A `--port` value: 0..65535 written as plain digits (0 picks a free port); anything else is a usage error. */
export function parsePort(raw: string): number {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port <= 65535)) throw new UsageError(`invalid port '${raw}'`);
  return port;
}
