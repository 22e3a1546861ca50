// A racing writer of lock-race.test.ts, over the built library. Each job (one line of JSON) is one
// attempt at the log: wait for the shared start instant, open the log, and either report that the
// lock was refused or append a few marked records, hold the log a moment, and close it.
//
// Jobs come as argv[2] (one job, then exit: a freshly started process) or as stdin lines (a pool
// process that races round after round). One line per job goes to stdout:
//   W <round> <worker> <t0> <t1> <first offset> <count>   held the log from t0 to t1
//   L <round> <worker> <holder pid or -> <reason>           refused with LockedError
//   E <round> <worker> <message>                             anything else (the test fails)
// t0 is read once open has returned and t1 before close is called, with process.hrtime.bigint():
// CLOCK_MONOTONIC, one clock for every process of the host, so the parent can compare them.
// A job with `die: true` is the holder that is SIGKILLed while it holds the log (it kills itself).
import { Commitlog } from '../../dist/src/log/commitlog.js';
import { LockedError } from '../../dist/src/errors.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function run(job) {
  const { round, worker, dir, startAt, records, holdMs, die } = job;
  while (Date.now() < startAt) {
    // spin: every worker leaves this loop within a fraction of a millisecond of the others
  }
  let log;
  try {
    log = Commitlog.open(dir);
  } catch (e) {
    if (e instanceof LockedError) return `L ${round} ${worker} ${e.holder?.pid ?? '-'} ${e.holder ? 'named' : 'unnamed'}`;
    return `E ${round} ${worker} open: ${String(e?.message ?? e).replace(/\n/g, ' ')}`;
  }
  const t0 = process.hrtime.bigint();
  try {
    const first = log.maxCommittedOffset() === null ? 0 : log.maxCommittedOffset() + 1;
    for (let i = 0; i < records; i++) {
      log.append(new TextEncoder().encode(`${round}:${worker}:${i}`));
      log.flush(); // one commit per record: interleaved writers would show at once
    }
    if (die) process.kill(process.pid, 'SIGKILL');
    if (holdMs > 0) Atomics.wait(sleeper, 0, 0, holdMs);
    const t1 = process.hrtime.bigint();
    log.close();
    return `W ${round} ${worker} ${t0} ${t1} ${first} ${records}`;
  } catch (e) {
    try {
      log.close();
    } catch {
      // reported below
    }
    return `E ${round} ${worker} write: ${String(e?.message ?? e).replace(/\n/g, ' ')}`;
  }
}

if (process.argv[2]) {
  process.stdout.write(run(JSON.parse(process.argv[2])) + '\n');
} else {
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      process.stdout.write(run(JSON.parse(line)) + '\n');
    }
  });
  process.stdout.write('READY\n');
}
