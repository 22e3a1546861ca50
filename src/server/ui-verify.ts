/**
 * `/api/verify`: one `verifyLog` run at a time per server, in a worker thread (ui-verify-worker.ts),
 * its progress and result sent to every stream that asked while it ran. A request during a run joins
 * it instead of starting a second read of the whole log; a run that nobody watches any more is
 * stopped, and so is one still going when the server closes.
 */
import { Worker } from 'node:worker_threads';
import type { VerifyResult } from '../api/ops.js';
import type { SseStream } from './ui-sse.js';
import type { VerifyProgress } from './ui-verify-worker.js';

type WorkerMessage = VerifyProgress | { type: 'result'; result: VerifyResult } | { type: 'error'; message: string };

const WORKER_URL = new URL('./ui-verify-worker.js', import.meta.url);

export class VerifyRunner {
  private worker: Worker | null = null;
  private readonly watchers = new Set<SseStream>();
  private lastProgress: VerifyProgress | null = null;
  /** Runs started (for tests). */
  started = 0;

  constructor(private readonly dir: string) {}

  get running(): boolean {
    return this.worker !== null;
  }

  /** Sends the progress and result of the current run (started now if none) to `stream`. */
  watch(stream: SseStream): void {
    this.watchers.add(stream);
    stream.onClose(() => {
      this.watchers.delete(stream);
      if (this.watchers.size === 0) this.stop();
    });
    const joined = this.worker !== null;
    if (!joined) this.start();
    stream.send('started', { joined });
    if (this.lastProgress !== null) stream.send('progress', this.lastProgress);
  }

  stop(): void {
    const w = this.worker;
    this.worker = null;
    this.lastProgress = null;
    if (w !== null) void w.terminate();
  }

  private start(): void {
    this.started++;
    const worker = new Worker(WORKER_URL, { workerData: { dir: this.dir } });
    this.worker = worker;
    const mine = (): boolean => this.worker === worker;
    worker.on('message', (m: WorkerMessage) => {
      if (!mine()) return;
      if (m.type === 'progress') {
        this.lastProgress = m;
        this.broadcast('progress', m);
        return;
      }
      this.finish(m.type === 'result' ? 'result' : 'failed', m.type === 'result' ? m.result : { error: m.message });
    });
    worker.on('error', (e) => {
      if (mine()) this.finish('failed', { error: e.message });
    });
    worker.on('exit', (code) => {
      if (mine()) this.finish('failed', { error: `verify worker exited with code ${code}` });
    });
  }

  private finish(event: 'result' | 'failed', data: unknown): void {
    const watchers = [...this.watchers];
    this.watchers.clear();
    this.stop();
    for (const s of watchers) {
      s.send(event, data);
      s.close();
    }
  }

  private broadcast(event: string, data: unknown): void {
    for (const s of this.watchers) s.send(event, data);
  }
}
