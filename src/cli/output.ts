/** Shared CLI plumbing: exit codes, one-line errors, progress reporting. */
import cliProgress from 'cli-progress';
import {
  CommitlogError,
  DamagedCommitError,
  DecodeError,
  InvalidDataError,
  TraversalError,
  TraversalIoError,
  UnexpectedEofError,
} from '../index.js';

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
