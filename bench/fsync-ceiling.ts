/**
 * How fast can one producer make one 200-byte record durable at a time, in Node, without blocking the
 * event loop? Loops that write into a preallocated (zero-filled, synced) file and fdatasync it, each
 * dispatching the fsync differently, measured in alternating rounds in one process:
 *
 *   blocking      pwrite + fdatasyncSync on the main thread (the event loop stalls for every fsync)
 *   pool          pwrite on the main thread, fdatasync in the libuv pool (what DurableLog does)
 *   worker-spin   pwrite on the main thread, fdatasync by a worker thread that spins for requests
 *                 (no wake-up), main thread polling for completion every event-loop turn
 *   worker-both   the record handed to a spinning worker that does pwrite + fdatasync
 *   in-worker     the blocking loop run entirely inside a worker thread (no handoff at all), while
 *                 the main thread polls for its end
 *
 *   npm run build && node dist/bench/fsync-ceiling.js [--rounds=10] [--dir=/tmp]
 *
 * Prints records/s (median of the rounds) and each loop ÷ blocking (median of per-round ratios).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

const RECORD = new Uint8Array(200).fill(7);
const FILE_BYTES = 64 * 1024 * 1024;
const SLOTS = FILE_BYTES / RECORD.length;
const SLICE_MS = 250;

// Control words shared with the worker: request sequence, fd, done sequence, mode, position, count.
const REQ = 0;
const FD = 1;
const DONE = 2;
const MODE = 3;
const POS = 4;
const COUNT = 5;
const MODE_SYNC = 0;
const MODE_WRITE_SYNC = 1;
const MODE_LOOP = 2;

const WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const c = new Int32Array(workerData.control);
const rec = new Uint8Array(workerData.record);
let seen = 0;
for (;;) {
  let t0 = performance.now(), i = 0;
  while (Atomics.load(c, ${REQ}) === seen) {
    // Spin for half a millisecond, then sleep until notified.
    if ((++i & 1023) === 0 && performance.now() - t0 > 0.5) { Atomics.wait(c, ${REQ}, seen); t0 = performance.now(); }
  }
  seen = Atomics.load(c, ${REQ});
  const fd = c[${FD}];
  if (fd < 0) break;
  const mode = c[${MODE}];
  if (mode === ${MODE_LOOP}) {
    let n = 0;
    const t = performance.now();
    while (performance.now() - t < ${SLICE_MS}) {
      fs.writeSync(fd, rec, 0, rec.length, (n % ${SLOTS}) * rec.length);
      fs.fdatasyncSync(fd);
      n++;
    }
    c[${COUNT}] = n;
  } else {
    if (mode === ${MODE_WRITE_SYNC}) fs.writeSync(fd, rec, 0, rec.length, c[${POS}] * rec.length);
    fs.fdatasyncSync(fd);
  }
  Atomics.store(c, ${DONE}, seen);
  Atomics.notify(c, ${DONE});
}`;

function parseArgs(): { rounds: number; dir: string } {
  const out = { rounds: 10, dir: os.tmpdir() };
  for (const a of process.argv.slice(2)) {
    const [k, v] = a.split('=');
    if (k === '--rounds' && v) out.rounds = Math.max(1, Number.parseInt(v, 10) || 10);
    else if (k === '--dir' && v) out.dir = v;
  }
  return out;
}

function preallocated(file: string): number {
  const fd = fs.openSync(file, 'w+');
  const zeros = new Uint8Array(1 << 20);
  for (let pos = 0; pos < FILE_BYTES; pos += zeros.length) fs.writeSync(fd, zeros, 0, zeros.length, pos);
  fs.fsyncSync(fd);
  return fd;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  const args = parseArgs();
  const root = fs.mkdtempSync(path.join(args.dir, 'fsync-ceiling-'));
  const control = new Int32Array(new SharedArrayBuffer(64));
  const shared = new SharedArrayBuffer(RECORD.length);
  new Uint8Array(shared).set(RECORD);
  const worker = new Worker(WORKER, { eval: true, workerData: { control: control.buffer, record: shared } });
  let seq = 0;
  /** Posts a request to the worker; resolves when it is done, polling once per event-loop turn. */
  const request = async (fd: number, mode: number, pos = 0): Promise<void> => {
    const mine = ++seq;
    control[FD] = fd;
    control[MODE] = mode;
    control[POS] = pos;
    Atomics.store(control, REQ, mine);
    Atomics.notify(control, REQ, 1);
    while (Atomics.load(control, DONE) < mine) await turn();
  };

  let n = 0;
  const open = (): { fd: number; slot: () => number } => {
    const fd = preallocated(path.join(root, `f${n++}`));
    let i = 0;
    return { fd, slot: () => i++ % SLOTS };
  };
  const loops: Record<string, () => void | Promise<void>> = {};
  {
    const f = open();
    loops.blocking = () => {
      fs.writeSync(f.fd, RECORD, 0, RECORD.length, f.slot() * RECORD.length);
      fs.fdatasyncSync(f.fd);
    };
  }
  {
    const f = open();
    loops.pool = () => {
      fs.writeSync(f.fd, RECORD, 0, RECORD.length, f.slot() * RECORD.length);
      return new Promise<void>((resolve, reject) => fs.fdatasync(f.fd, (e) => (e ? reject(e) : resolve())));
    };
  }
  {
    const f = open();
    loops['worker-spin'] = () => {
      fs.writeSync(f.fd, RECORD, 0, RECORD.length, f.slot() * RECORD.length);
      return request(f.fd, MODE_SYNC);
    };
  }
  {
    const f = open();
    loops['worker-both'] = () => request(f.fd, MODE_WRITE_SYNC, f.slot());
  }
  const inWorker = open();

  const timed = async (fn: () => void | Promise<void>): Promise<number> => {
    const t0 = performance.now();
    let count = 0;
    while (performance.now() - t0 < SLICE_MS) {
      const r = fn();
      if (r) await r;
      count++;
    }
    return count / ((performance.now() - t0) / 1000);
  };
  const runInWorker = async (): Promise<number> => {
    await request(inWorker.fd, MODE_LOOP);
    return control[COUNT]! / (SLICE_MS / 1000);
  };

  const names = [...Object.keys(loops), 'in-worker'];
  const rates: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (const k of Object.keys(loops)) await timed(loops[k]!); // warm-up
  for (let round = 0; round < args.rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]!;
      rates[name]!.push(name === 'in-worker' ? await runInWorker() : await timed(loops[name]!));
    }
  }
  control[FD] = -1;
  Atomics.store(control, REQ, ++seq);
  Atomics.notify(control, REQ);
  await worker.terminate();
  fs.rmSync(root, { recursive: true, force: true });

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(`one 200-byte record per fdatasync, preallocated file; ${args.rounds} rounds × ${SLICE_MS} ms; load ${os.loadavg()[0]!.toFixed(2)}`);
  for (const name of names) {
    const ratio = median(rates[name]!.map((x, i) => x / rates.blocking![i]!));
    console.log(`  ${name.padEnd(12)} ${Math.round(median(rates[name]!)).toLocaleString('en-US').padStart(7)}/s   ÷ blocking ${ratio.toFixed(2)}×`);
  }
}

await main();
