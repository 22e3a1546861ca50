// The writer of archive-follow.test.ts, in its own process over the built library: appends `count`
// commits (one record each, small segments) to DIR, `batch` at a time with `pauseMs` between
// batches, then closes the log and prints the last tx offset.
import { Commitlog } from '../../dist/src/log/commitlog.js';

const [dir, count, batch, pauseMs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const log = Commitlog.open(dir, { maxSegmentSize: 8192, maxRecordsInCommit: 1 });
let last = null;
for (let i = 0; i < count; i++) {
  log.append(new TextEncoder().encode(`commit ${i} `.repeat(1 + (i % 17))));
  last = log.flush();
  if ((i + 1) % batch === 0) Atomics.wait(sleeper, 0, 0, pauseMs);
}
log.close();
process.stdout.write(`${last}\n`);
