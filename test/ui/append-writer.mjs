// The writer of ui-live.test.ts, in a process of its own: opens the log in argv[2] with the built
// library and appends argv[3] commits of one record each, argv[4] ms apart, then closes it.
import { Commitlog } from '../../dist/src/index.js';

const [dir, count, gapMs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 0)];
const log = Commitlog.open(dir, { maxSegmentSize: 16 * 1024 });
for (let i = 0; i < count; i++) {
  log.append(new TextEncoder().encode(`appended by pid ${process.pid}: ${i}`));
  log.flush();
  if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
}
log.close();
process.stdout.write(`appended ${count}\n`);
