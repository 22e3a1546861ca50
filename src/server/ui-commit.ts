/**
 * One commit of the log, decoded for `clog ui`: its framing (as `clog dump` prints it) and its
 * transactions as `clog dump --txdata` decodes them, with the rows of each table capped so a huge
 * commit does not make a huge response. The decode replays the log's schema from its start, so it
 * runs in a worker thread (ui-commit-worker.ts): the server keeps answering meanwhile.
 */
import { Worker } from 'node:worker_threads';
import { type DumpedCommit, dumpCommits } from '../api/ops.js';
import { type DecodedTableOps, type DecodedTransaction, decodedTransactions } from '../api/replay.js';
import { NotFoundError, messageOf } from '../index.js';

/** Rows shown per table and kind (inserts, deletes) of a transaction; `count` says how many there were. */
export const MAX_COMMIT_ROWS = 200;
/** Decodes running at once; more are refused (503) rather than queued behind a slow one. */
export const MAX_COMMIT_WORKERS = 2;

export interface CappedTableOps extends DecodedTableOps {
  count: number;
}

export interface CommitDetail {
  offset: number;
  commit: DumpedCommit | null;
  transactions: (Omit<DecodedTransaction, 'inserts' | 'deletes'> & { inserts: CappedTableOps[]; deletes: CappedTableOps[] })[];
  /** The damage that kept the commit (or the log before it) from being read or decoded. */
  error: string | null;
}

function capped(ops: DecodedTableOps[]): CappedTableOps[] {
  return ops.map((op) => ({ ...op, rows: op.rows.slice(0, MAX_COMMIT_ROWS), count: op.rows.length }));
}

/** The commit holding tx `offset`; NotFoundError past the end of an undamaged log. */
export function commitDetail(dir: string, offset: number): CommitDetail {
  let commit: DumpedCommit | null = null;
  try {
    for (const c of dumpCommits(dir, { from: offset })) {
      if (c.minTxOffset <= offset && offset < c.minTxOffset + c.n) commit = c;
      break;
    }
  } catch (e) {
    return { offset, commit: null, transactions: [], error: messageOf(e) };
  }
  if (commit === null) throw new NotFoundError(`no commit holds transaction ${offset}`);
  const detail: CommitDetail = { offset, commit, transactions: [], error: null };
  try {
    for (const tx of decodedTransactions(dir, { from: commit.minTxOffset, to: commit.minTxOffset + commit.n - 1 })) {
      detail.transactions.push({ ...tx, inserts: capped(tx.inserts), deletes: capped(tx.deletes) });
    }
  } catch (e) {
    detail.error = messageOf(e);
  }
  return detail;
}

type WorkerReply = { ok: CommitDetail } | { notFound: string } | { failed: string };

export class CommitDecoder {
  private running = 0;

  constructor(private readonly dir: string) {}

  get busy(): boolean {
    return this.running >= MAX_COMMIT_WORKERS;
  }

  decode(offset: number): Promise<CommitDetail> {
    this.running++;
    const worker = new Worker(new URL('./ui-commit-worker.js', import.meta.url), { workerData: { dir: this.dir, offset } });
    return new Promise<CommitDetail>((resolve, reject) => {
      worker.once('message', (reply: WorkerReply) => {
        if ('ok' in reply) resolve(reply.ok);
        else if ('notFound' in reply) reject(new NotFoundError(reply.notFound));
        else reject(new Error(reply.failed));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`commit decoder exited with code ${code}`)));
    }).finally(() => {
      this.running--;
      void worker.terminate();
    });
  }
}

/** The worker's side: decode, reply, exit. */
export function replyFor(dir: string, offset: number): WorkerReply {
  try {
    return { ok: commitDetail(dir, offset) };
  } catch (e) {
    if (e instanceof NotFoundError) return { notFound: e.message };
    return { failed: messageOf(e) };
  }
}
