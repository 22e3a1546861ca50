/**
 * Archive to S3 (issue 14): `archiveLog` and `restoreLog` against radosgw over loopback, each against
 * a baseline measured in the same run on the same objects:
 *
 *   archive   archiveLog(dir, s3://…) of a fresh prefix (every segment one object)
 *   put       baseline: read each segment file, PutObject it, one at a time (the same object sizes)
 *   put ×4    reference: the same PUTs, four in flight (what parallel uploads would give)
 *   restore   restoreLog(s3://…, dest) (verifies every part and commit, writes, rebuilds indexes)
 *   get       baseline: GetObject each object and write it to a file, one at a time
 *
 * Every pass counts its HTTP requests (retries included) with a middleware on the client it uses.
 *
 *   npm run build && node dist/bench/archive.js [--mb=N] [--segment-mb=N] [--reps=N] [--dir=PATH]
 *
 * --mb: log size in MiB (default 128); --segment-mb: maxSegmentSize in MiB (default 16); --reps
 * (default 3). Starts its own radosgw (test/s3/radosgw.sh) unless S3_ENDPOINT is set.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { archiveLog, makeS3Client, restoreLog, type S3Target } from '../src/api/archive.js';
import { Commitlog } from '../src/index.js';
import { environment, environmentLines, median, positiveInt, resultsTable, type Measurement } from './report.js';
import { startS3 } from './s3-server.js';
import { COMMIT_LEN, RECORDS_PER_COMMIT, RecordSource, segmentFiles } from './workloads.js';

const MIB = 1024 * 1024;
const BUCKET = 'clog-bench-archive';
/** In-flight PUTs of the parallel reference pass. */
const PARALLEL_PUTS = 4;
/** Keys of this run under their own prefix: a server given by S3_ENDPOINT may hold an earlier run's archive. */
const RUN = `run-${Date.now()}`;

interface Args {
  mb: number;
  segmentMb: number;
  reps: number;
  dir: string;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { mb: 128, segmentMb: 16, reps: 3, dir: os.tmpdir() };
  for (const a of argv) {
    const [key, value] = a.split('=', 2) as [string, string | undefined];
    if (key === '--mb' && value) args.mb = positiveInt(key, value);
    else if (key === '--segment-mb' && value) args.segmentMb = positiveInt(key, value);
    else if (key === '--reps' && value) args.reps = positiveInt(key, value);
    else if (key === '--dir' && value) args.dir = value;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

/** A client that counts the HTTP requests it sends (per attempt: the middleware runs inside the retries). */
function countingClient(endpoint: string): { client: S3Client; requests: () => number } {
  const client = makeS3Client(endpoint);
  let n = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      n++;
      return next(args);
    },
    { step: 'deserialize', name: 'benchCountRequests' },
  );
  return { client, requests: () => n };
}

function writeLog(dir: string, numCommits: number, maxSegmentSize: number): number {
  const src = new RecordSource();
  const log = Commitlog.open(dir, { maxSegmentSize });
  const size = src.pool.length;
  for (let c = 0; c < numCommits; c++) {
    const first = src.firstRecordOf(c);
    for (let k = 0; k < RECORDS_PER_COMMIT; k++) {
      if (!log.append(src.pool[(first + k) % size]!)) throw new Error(`append refused record ${k} of commit ${c}`);
    }
    log.flush();
  }
  log.close();
  return numCommits * RECORDS_PER_COMMIT;
}

function objectName(file: string): string {
  return path.basename(file);
}

async function putAll(client: S3Client, files: readonly string[], prefix: string, inFlight: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const f = files[next++]!;
      const body = fs.readFileSync(f);
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${objectName(f)}`, Body: body, ContentLength: body.length }));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

async function getAll(client: S3Client, files: readonly string[], prefix: string, dest: string): Promise<void> {
  fs.mkdirSync(dest, { recursive: true });
  for (const f of files) {
    const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${objectName(f)}` }));
    fs.writeFileSync(path.join(dest, objectName(f)), await r.Body!.transformToByteArray());
  }
}

/** The restored (or downloaded) segments must equal the source's, or the figure means nothing. */
function expectSameSegments(src: string, dst: string): void {
  const a = segmentFiles(src);
  const b = segmentFiles(dst);
  if (a.map(objectName).join() !== b.map(objectName).join()) throw new Error(`segments differ: ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!fs.readFileSync(a[i]!).equals(fs.readFileSync(b[i]!))) throw new Error(`${b[i]} differs from ${a[i]}`);
  }
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const numCommits = Math.ceil((args.mb * MIB) / COMMIT_LEN);
  const env = environment(['node dist/bench/archive.js', ...process.argv.slice(2)].join(' '), args.dir);
  console.log('stdb-commitlog archive-to-S3 benchmark');
  for (const l of environmentLines(env, numCommits * RECORDS_PER_COMMIT, args.reps)) console.log(`  ${l}`);
  const root = fs.mkdtempSync(path.join(args.dir, 'clog-bench-archive-'));
  // Every rep writes the log three times (archive, put, put ×4) and rgw frees nothing before its GC.
  const server = await startS3(Math.max(1024 * MIB, (args.reps + 1) * 3 * args.mb * MIB + 512 * MIB));
  console.log(`  S3: ${server.origin} at ${server.endpoint}; maxSegmentSize ${args.segmentMb} MiB`);
  try {
    const src = path.join(root, 'src');
    const records = writeLog(src, numCommits, args.segmentMb * MIB);
    const files = segmentFiles(src);
    const bytes = files.reduce((a, f) => a + fs.statSync(f).size, 0);
    const { client, requests } = countingClient(server.endpoint);
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const m = (name: string): Measurement => ({ name, records, bytes, seconds: [] });
    const put = m('baseline: PutObject per segment file, sequential');
    const archive = { ...m('archiveLog'), baseline: put };
    const putPar = { ...m(`PutObject per segment file, ${PARALLEL_PUTS} in flight`), baseline: put };
    const get = m('baseline: GetObject per object + write file, sequential');
    const restore = { ...m('restoreLog'), baseline: get };
    const reqs = new Map<Measurement, number[]>([archive, put, putPar, get, restore].map((x) => [x, []]));
    // Untimed warm-up: connections, JIT and rgw's bucket index before the first timed pass.
    await archiveLog(src, { bucket: BUCKET, prefix: `${RUN}/warm` }, { client });
    await restoreLog({ bucket: BUCKET, prefix: `${RUN}/warm` }, path.join(root, 'warm'), { client });
    fs.rmSync(path.join(root, 'warm'), { recursive: true });
    console.log(`\n${files.length} segment(s), ${(bytes / 1e6).toFixed(0)} MB, ${args.reps} reps (warm page cache)`);
    for (let rep = 0; rep < args.reps; rep++) {
      const target: S3Target = { bucket: BUCKET, prefix: `${RUN}/a${rep}` };
      const dest = path.join(root, 'dest');
      // Uploads first (restore and get read what they wrote), each pair rotated so drift favours neither.
      const uploads: Array<[string, Measurement, () => Promise<unknown>]> = [
        ['archive', archive, () => archiveLog(src, target, { client })],
        ['put', put, () => putAll(client, files, `${RUN}/p${rep}`, 1)],
        [`put×${PARALLEL_PUTS}`, putPar, () => putAll(client, files, `${RUN}/q${rep}`, PARALLEL_PUTS)],
      ];
      const downloads: Array<[string, Measurement, () => Promise<unknown>]> = [
        ['restore', restore, () => restoreLog(target, dest, { client })],
        ['get', get, () => getAll(client, files, `${RUN}/p${rep}`, dest)],
      ];
      const line: string[] = [];
      for (const [label, meas, run] of [...rotate(uploads, rep), ...rotate(downloads, rep)]) {
        const before = requests();
        meas.seconds.push(await seconds(run));
        reqs.get(meas)!.push(requests() - before);
        if (meas === restore || meas === get) {
          expectSameSegments(src, dest); // untimed
          fs.rmSync(dest, { recursive: true });
        }
        line.push(`${label} ${(meas.seconds[rep]! * 1000).toFixed(0)} ms`);
      }
      console.log(`  run ${rep + 1}/${args.reps}: ${line.join(', ')}`);
    }
    const results = [archive, put, putPar, restore, get];
    console.log(`\nResults (median of ${args.reps}; "vs baseline" = throughput ÷ the baseline's, same bytes, same run)\n`);
    console.log(resultsTable(results));
    // Same-rep pairs: on a noisy machine a slow moment hits both sides of a pair, not the medians.
    console.log('\nPaired ratios (per rep, throughput ÷ the baseline of the same rep), median [min-max]:');
    for (const r of [archive, putPar, restore]) {
      const ps = r.seconds.map((t, i) => r.baseline!.seconds[i]! / t);
      console.log(`  ${r.name}: ${median(ps).toFixed(2)}× [${Math.min(...ps).toFixed(2)}-${Math.max(...ps).toFixed(2)}]`);
    }
    console.log('\nHTTP requests per MB (10^6 bytes of log), median:');
    for (const r of results) console.log(`  ${r.name}: ${(median(reqs.get(r)!) / (bytes / 1e6)).toFixed(3)} (${median(reqs.get(r)!)} requests)`);
    await incremental(client, requests, src, args.segmentMb * MIB);
  } finally {
    server.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Rounds of the steady state of `clog archive --follow`: a few commits appended, one archive run each. */
const INCREMENTAL_ROUNDS = 10;
const INCREMENTAL_COMMITS = 5;

/** Requests per archived MB when each run uploads only the head's new commits (~1 MB per run here). */
async function incremental(client: S3Client, requests: () => number, src: string, maxSegmentSize: number): Promise<void> {
  const target: S3Target = { bucket: BUCKET, prefix: `${RUN}/incremental` };
  await archiveLog(src, target, { client });
  const before = requests();
  let uploaded = 0;
  let objects = 0;
  for (let i = 0; i < INCREMENTAL_ROUNDS; i++) {
    appendMore(src, INCREMENTAL_COMMITS, maxSegmentSize);
    const r = await archiveLog(src, target, { client });
    uploaded += r.bytesUploaded;
    objects += r.objectsUploaded;
  }
  const n = requests() - before;
  console.log(
    `\nIncremental runs (${INCREMENTAL_ROUNDS} × ${INCREMENTAL_COMMITS} commits appended, one archiveLog each): ` +
      `${n} requests, ${objects} objects, ${(uploaded / 1e6).toFixed(1)} MB: ${(n / (uploaded / 1e6)).toFixed(2)} requests per MB`,
  );
}

function appendMore(dir: string, numCommits: number, maxSegmentSize: number): void {
  const rec = new RecordSource(0x9e3779b9);
  const log = Commitlog.open(dir, { maxSegmentSize });
  for (let c = 0; c < numCommits; c++) {
    for (let k = 0; k < RECORDS_PER_COMMIT; k++) log.append(rec.pool[k]!);
    log.flush();
  }
  log.close();
}

function rotate<T>(xs: readonly T[], by: number): T[] {
  return xs.map((_, i) => xs[(i + by) % xs.length]!);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
