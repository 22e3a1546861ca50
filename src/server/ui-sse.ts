/**
 * Server-Sent Events for `clog ui` (live tail, verify progress), bounded: a cap on open streams (503
 * beyond it), a heartbeat comment so proxies and browsers see a live connection, a cap on what may
 * wait unsent for a slow client (it is cut off, not buffered for), and `closeAll` for the server's
 * close, which would otherwise wait for every open stream to end by itself.
 */
import type * as http from 'node:http';
import { InvalidInputError } from '../index.js';
import { sendJson } from './http.js';

export interface SseHubOptions {
  /** Open streams at most; beyond, 503 with Retry-After. */
  maxStreams: number;
  /** A comment line is sent this often, ms. */
  heartbeatMs: number;
  /** Bytes a stream may have waiting for a client that does not read; beyond, the stream is closed. */
  maxBufferedBytes: number;
}

/** Seconds a refused client is asked to wait (EventSource reconnects by itself after `retry`). */
const RETRY_AFTER_S = 5;
/** What EventSource waits before reconnecting after a dropped stream, ms. */
const CLIENT_RETRY_MS = 2_000;

export class SseStream {
  private readonly closeHandlers: (() => void)[] = [];
  private heartbeat: NodeJS.Timeout | null;
  private done = false;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly options: SseHubOptions,
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${CLIENT_RETRY_MS}\n\n`);
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), options.heartbeatMs);
    this.heartbeat.unref();
    res.once('close', () => this.close());
  }

  get closed(): boolean {
    return this.done;
  }

  /** Sends one event; `data` is JSON (one line, so no field splitting is needed). */
  send(event: string, data: unknown): void {
    if (!/^[a-z][a-z-]*$/.test(event)) throw new InvalidInputError(`bad event name ${event}`);
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Registers `fn` to run once when the stream ends (client gone, server closing, or `close`). */
  onClose(fn: () => void): void {
    if (this.done) fn();
    else this.closeHandlers.push(fn);
  }

  /** Ends the stream (idempotent); handlers run once. */
  close(): void {
    if (this.done) return;
    this.done = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    if (!this.res.writableEnded) this.res.end();
    for (const fn of this.closeHandlers.splice(0)) fn();
  }

  private write(text: string): void {
    if (this.done) return;
    // A client that reads nothing must not make the server hold an ever longer queue.
    if (this.res.writableLength > this.options.maxBufferedBytes) {
      this.res.destroy();
      this.close();
      return;
    }
    this.res.write(text);
  }
}

export class SseHub {
  private readonly streams = new Set<SseStream>();
  /** Streams refused because the cap was reached (for tests and operators). */
  refused = 0;

  constructor(private readonly options: SseHubOptions) {}

  get size(): number {
    return this.streams.size;
  }

  /** Opens a stream on `res`, or answers 503 and returns null when `maxStreams` are open. */
  open(res: http.ServerResponse): SseStream | null {
    if (this.streams.size >= this.options.maxStreams) {
      this.refused++;
      res.setHeader('retry-after', String(RETRY_AFTER_S));
      sendJson(res, 503, { error: `too many event streams (${this.options.maxStreams}), retry later` });
      return null;
    }
    const stream = new SseStream(res, this.options);
    this.streams.add(stream);
    stream.onClose(() => this.streams.delete(stream));
    return stream;
  }

  closeAll(): void {
    for (const s of [...this.streams]) s.close();
  }
}
