/**
 * The SQLite export and the change stream (issue 15) on the two real logs and on generated ones.
 * Every export is read back by a second reader, Python's `sqlite3` module in its own process, and
 * compared with the in-memory `replay()` (the engine the export replaces for large logs).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ExportError,
  ExportStoppedError,
  SqliteReplay,
  changeLinesSync,
  changes,
  changesSync,
  decodedTransactions,
  exportSqlite,
  replay,
  rowCodec,
  rowToJson,
  txdataEncoder,
} from '../../src/api/replay.js';
import { FsRepo, GenericLog, MemoryRepo, resetTo } from '../../src/index.js';
import { AT, BinaryReader, option, product } from '../../src/replay/stdb.js';
import { type RawRow, type TxSpec, declare, txdata, userRow } from '../unit/replay/log-builder.js';
import { tempDirs } from '../unit/maintenance/log-fixtures.js';
import { generateLog } from '../../bench/stdb-log.js';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const V12 = path.join(FIXTURES, 'spacetimedb-v1.2/clog');
const V26 = path.join(FIXTURES, 'spacetimedb-v2.6/clog');
const tmp = tempDirs();

/** Every table of a SQLite file as Python's sqlite3 sees it: rows (BSATN hex last) in rowid order. */
function pythonRead(file: string): { tables: Record<string, { columns: string[]; rows: unknown[][] }>; meta: Record<string, string> } {
  const script = `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
out = {"tables": {}, "meta": dict(c.execute("select key, value from _stdb_meta").fetchall())}
for (name,) in c.execute("select sql_table from _stdb_tables order by table_id").fetchall():
    cur = c.execute('select * from "%s" order by rowid' % name.replace('"', '""'))
    cols = [d[0] for d in cur.description]
    rows = [[v.hex() if isinstance(v, bytes) else v for v in r] for r in cur.fetchall()]
    out["tables"][name] = {"columns": cols, "rows": rows}
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }));
}

/** The export, read by Python, decoded back from the BSATN column: JSON rows per table name. */
function exportedRows(file: string, source: string | MemoryRepo): Record<string, unknown[]> {
  const ref = replay(source);
  const py = pythonRead(file);
  const out: Record<string, unknown[]> = {};
  for (const t of ref.tables) {
    const got = Object.entries(py.tables).find(([name]) => name === t.name || name.endsWith(`_${t.tableId}`));
    if (!got) {
      out[t.name] = [];
      continue;
    }
    const codec = rowCodec(t.columns);
    const hidden = got[1].columns.indexOf('_stdb_bsatn');
    out[t.name] = got[1].rows.map((r) => rowToJson(codec.decode(new BinaryReader(Buffer.from(String(r[hidden]), 'hex'))), t.columns));
  }
  return out;
}

function replayedRows(source: string | MemoryRepo, at?: number): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const t of replay(source, at === undefined ? {} : { at }).tables) out[t.name] = t.rows.map((r) => rowToJson(r, t.columns));
  return out;
}

describe('exportSqlite on the real logs', () => {
  for (const [name, dir] of [
    ['v1.2', V12],
    ['v2.6', V26],
  ] as const) {
    it(`${name}: every table equals the in-memory replay, read by Python`, async () => {
      const file = path.join(tmp(), 'db.sqlite');
      const r = await exportSqlite(dir, file);
      expect(r.resumedFrom).toBeNull();
      expect(r.lastOffset).toBe(name === 'v1.2' ? 8 : 0);
      expect(exportedRows(file, dir)).toEqual(replayedRows(dir));
      const py = pythonRead(file);
      expect(py.meta).toMatchObject({ format: 'stdb-commitlog sqlite export 1', tx_offset: String(r.lastOffset), segments: '[0]' });
      const counts = Object.fromEntries(r.tables.map((t) => [t.name, t.rows]));
      const ref = Object.fromEntries(replay(dir).tables.map((t) => [t.name, t.rows.length]));
      expect(counts).toEqual(ref);
    });
  }

  it('v1.2: --at N for every N equals replay({ at: N }), and continuing from every prefix equals one full export', async () => {
    const full = path.join(tmp(), 'full.sqlite');
    await exportSqlite(V12, full);
    const fullTables = pythonRead(full).tables;
    for (let n = 0; n <= 8; n++) {
      const file = path.join(tmp(), `at-${n}.sqlite`);
      const r = await exportSqlite(V12, file, { at: n });
      expect(r.lastOffset).toBe(n);
      const got = exportedRows(file, V12);
      const want = replayedRows(V12, n);
      for (const [name, rows] of Object.entries(want)) expect(got[name] ?? [], `${name} at ${n}`).toEqual(rows);
      const rest = await exportSqlite(V12, file);
      expect([rest.resumedFrom, rest.lastOffset, rest.transactions]).toEqual([n, 8, 8 - n]);
      // Row for row the same tables (rowids may differ after deletes: compare the BSATN multiset).
      const tables = pythonRead(file).tables;
      for (const [name, t] of Object.entries(fullTables)) {
        const h = t.columns.indexOf('_stdb_bsatn');
        expect(tables[name]!.rows.map((x) => x[h]).sort(), `${name} from ${n}`).toEqual(t.rows.map((x) => x[h]).sort());
      }
    }
  });

  it('v1.2: the change stream counts per transaction and table equal the Txdata decoder\'s', () => {
    const count = new Map<string, number>();
    for (const t of decodedTransactions(V12)) {
      for (const [op, ops] of [['insert', t.inserts], ['delete', t.deletes]] as const) {
        for (const d of ops) count.set(`${t.offset}/${d.table}/${op}`, (count.get(`${t.offset}/${d.table}/${op}`) ?? 0) + d.rows.length);
      }
    }
    const got = new Map<string, number>();
    for (const c of changesSync(V12)) got.set(`${c.txOffset}/${c.table}/${c.op}`, (got.get(`${c.txOffset}/${c.table}/${c.op}`) ?? 0) + 1);
    expect(got).toEqual(count);
  });

  it('v1.2: column values as documented (hex identity, ISO timestamp, i128 as decimal text)', async () => {
    const file = path.join(tmp(), 'db.sqlite');
    await exportSqlite(V12, file);
    const py = pythonRead(file);
    const msg = py.tables.message!;
    expect(msg.columns).toEqual(['sender', 'sent', 'text', '_stdb_bsatn', '_stdb_key']);
    expect(msg.rows.map((r) => r.slice(0, 3))).toEqual([
      [expect.stringMatching(/^c200[0-9a-f]{60}$/), '2025-08-18T15:57:58.674636Z', 'omg'],
      [expect.stringMatching(/^c200[0-9a-f]{60}$/), '2025-08-18T15:58:03.468932Z', 'clay aiken!\n'],
    ]);
    const seq = py.tables.st_sequence!;
    const max = seq.columns.indexOf('max_value');
    expect(seq.rows.map((r) => r[max])).toEqual(Array(3).fill(String(2n ** 127n - 1n)));
    const user = py.tables.user!;
    expect(user.rows.map((r) => r[user.columns.indexOf('online')])).toEqual([0]);
    const types = JSON.parse(
      execFileSync('python3', ['-c', 'import sqlite3,sys,json; print(json.dumps(sqlite3.connect(sys.argv[1]).execute("select columns from _stdb_tables where name=\'user\'").fetchone()[0]))', file], {
        encoding: 'utf8',
      }),
    );
    expect(JSON.parse(types)).toEqual([
      { name: 'identity', type: 'Identity', sql: 'TEXT', stored: 'hex text' },
      { name: 'name', type: 'Option<String>', sql: 'TEXT', stored: 'text, NULL for none' },
      { name: 'online', type: 'Bool', sql: 'INTEGER', stored: '0 or 1' },
    ]);
  });
});

// A generated module: one table with every kind of column, rows inserted, updated, deleted, truncated.
const COLUMNS: [string, ReturnType<typeof product>][] = [
  ['id', AT.U32],
  ['big', AT.U64],
  ['huge', AT.I128],
  ['score', AT.F64],
  ['label', option(AT.String)],
  ['blob', AT.Array(AT.U8)],
  ['pos', product([['x', AT.I32], ['y', AT.I32]])],
];
const TABLE = 4096;

function rowOf(k: number, big: bigint): RawRow {
  return userRow(COLUMNS, {
    id: k,
    big,
    huge: -(2n ** 100n) - BigInt(k),
    score: k % 7 === 0 ? Number.NaN : k / 3,
    label: k % 2 === 0 ? `row ${k}` : undefined,
    blob: Uint8Array.of(k & 0xff, 1, 2),
    pos: { x: k, y: -k },
  });
}

type Op = { kind: 'insert'; k: number } | { kind: 'delete'; pick: number } | { kind: 'truncate' };

/** A log of `ops`, `perCommit` transactions per commit, into `repo`. */
function generated(ops: Op[][], perCommit = 1, repo = new MemoryRepo(), maxSegmentSize = 4096): MemoryRepo {
  const enc = txdataEncoder<RawRow>((row, out) => out.write(row));
  const log = GenericLog.open(repo, { maxSegmentSize }, enc);
  const decl = declare(TABLE, 'things', COLUMNS);
  const txs: TxSpec[] = [{ reducer: 'init', inserts: [[1, [decl.table]], [2, decl.columns]] }];
  const live: RawRow[] = [];
  for (const tx of ops) {
    const ins: RawRow[] = [];
    const del: RawRow[] = [];
    let truncate = false;
    for (const op of tx) {
      if (op.kind === 'insert') {
        const r = rowOf(op.k, BigInt(op.k) * 2n ** 60n);
        ins.push(r);
      } else if (op.kind === 'delete' && live.length > 0) {
        del.push(live.splice(op.pick % live.length, 1)[0]!);
      } else if (op.kind === 'truncate') truncate = true;
    }
    if (truncate) {
      live.length = 0;
      del.length = 0;
    }
    live.push(...ins);
    txs.push({ reducer: 'step', inserts: [[TABLE, ins]], deletes: del.length ? [[TABLE, del]] : [], truncates: truncate ? [TABLE] : [] });
  }
  let next = 0;
  for (let i = 0; i < txs.length; i += perCommit) {
    const batch = txs.slice(i, i + perCommit).map((t) => ({ offset: next++, txdata: txdata(t) }));
    log.commit(batch);
  }
  log.close();
  return repo;
}

/**
 * A table's rows as a multiset (sorted by their JSON): a transaction that deletes a row and inserts an
 * identical one may leave the survivors in another rowid order, which is not a different state.
 */
function bag<T>(rows: readonly T[]): string[] {
  return rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).sort();
}

function sameRows(tables: Record<string, readonly unknown[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(tables).map(([name, rows]) => [name, bag(rows)]));
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 10_000 }).map((k) => ({ kind: 'insert' as const, k })) },
  { weight: 3, arbitrary: fc.nat().map((pick) => ({ kind: 'delete' as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'truncate' as const }) },
);
const logArb = fc.record({
  ops: fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 25 }),
  perCommit: fc.integer({ min: 1, max: 3 }),
});

describe('exportSqlite on generated logs', () => {
  it('equals replay() for random inserts, deletes and truncates, in one run and in runs stopped at every --at (property)', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, fc.integer({ min: 0, max: 100 }), async ({ ops, perCommit }, cut) => {
        const repo = generated(ops, perCommit);
        const last = ops.length; // tx 0 declares the table
        const file = path.join(tmp(), 'a.sqlite');
        await exportSqlite(repo, file);
        expect(sameRows(exportedRows(file, repo))).toEqual(sameRows(replayedRows(repo)));
        // Stopped at `at` (inside a commit when perCommit > 1), then continued: the same file.
        const at = cut % (last + 1);
        const inc = path.join(tmp(), 'b.sqlite');
        const first = await exportSqlite(repo, inc, { at });
        expect(first.lastOffset).toBe(at);
        const partial = new SqliteReplay_rows(inc);
        expect(bag(partial.things())).toEqual(bag(replayedRows(repo, at).things));
        const second = await exportSqlite(repo, inc);
        expect([second.resumedFrom, second.transactions, second.lastOffset]).toEqual([at, last - at, last]);
        expect(bag(pythonRead(inc).tables.things!.rows)).toEqual(bag(pythonRead(file).tables.things!.rows));
      }),
      { numRuns: 8 },
    );
  });

  it('random logs of the bench generator: every table equals replay() (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 8, max: 96 }), async (seed, kib) => {
        const dir = path.join(tmp(), 'log');
        const contents = generateLog(dir, kib * 1024, seed, 64);
        const file = path.join(tmp(), 'gen.sqlite');
        const r = await exportSqlite(dir, file);
        expect(r.lastOffset).toBe(contents.transactions - 1);
        expect(exportedRows(file, dir)).toEqual(replayedRows(dir));
        const live = Object.fromEntries(r.tables.map((t) => [t.name, t.rows]));
        expect([live.player, live.event]).toEqual([contents.player.live, contents.event.live]);
      }),
      { numRuns: 6 },
    );
  });

  it('SqliteReplay rows equal replay() rows', async () => {
    const repo = generated(
      Array.from({ length: 30 }, (_, i) => [{ kind: 'insert', k: i } as Op, ...(i % 3 === 0 ? [{ kind: 'delete', pick: i } as Op] : [])]),
    );
    const r = await SqliteReplay.open(repo);
    try {
      const t = r.result.tables.find((x) => x.name === 'things')!;
      const cols = r.columnsOf(t.tableId);
      expect([...r.rows(t.tableId)].map((x) => rowToJson(x, cols))).toEqual(replayedRows(repo).things);
      expect(t.rows).toBe(replayedRows(repo).things!.length);
      expect(t.rows).toBe(21); // 30 inserts; the first transaction's delete found nothing live
    } finally {
      r.close();
    }
  });

  it('a reset log or another log is refused, not mixed in; a foreign SQLite file too', async () => {
    const dir = tmp();
    generated(Array.from({ length: 10 }, (_, i) => [{ kind: 'insert', k: i } as Op]), 1, new FsRepo(dir) as unknown as MemoryRepo);
    const file = path.join(tmp(), 'x.sqlite');
    await exportSqlite(dir, file);
    resetTo(dir, 5);
    await expect(exportSqlite(dir, file)).rejects.toMatchObject({ code: 'EXPORT_MISMATCH' });
    await expect(exportSqlite(V12, file)).rejects.toBeInstanceOf(ExportError);
    const other = path.join(tmp(), 'other.sqlite');
    execFileSync('python3', ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table notes(x)"); c.commit()', other]);
    await expect(exportSqlite(V12, other)).rejects.toMatchObject({ code: 'EXPORT_MISMATCH', message: expect.stringMatching(/notes/) });
    await expect(exportSqlite(V12, file.replace('x.sqlite', 'y.sqlite'), { at: 3 })).resolves.toMatchObject({ lastOffset: 3 });
    await expect(exportSqlite(V12, file.replace('x.sqlite', 'y.sqlite'), { at: 2 })).rejects.toThrow(/already holds transactions up to 3/);
  });

  it('a damaged commit stops the export naming it; the file keeps every commit before it', async () => {
    const repo = generated(Array.from({ length: 40 }, (_, i) => [{ kind: 'insert', k: i } as Op]), 1, new MemoryRepo(), 512);
    const segs = repo.existingOffsets();
    expect(segs.length).toBeGreaterThan(3);
    const victim = segs[2]!; // first commit of the third segment
    repo.segments.get(victim)!.data[10 + 30]! ^= 0xff;
    const file = path.join(tmp(), 'd.sqlite');
    const err = await exportSqlite(repo, file, { batchBytes: 1 << 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportStoppedError);
    expect((err as Error).message).toMatch(new RegExp(`checksum mismatch at offset=${victim}.*holds every transaction up to ${victim - 1}`));
    const py = pythonRead(file);
    expect(py.meta.tx_offset).toBe(String(victim - 1));
    expect(py.tables.things!.rows.length).toBe(victim - 1);
    // A re-run continues from there and stops at the same place.
    await expect(exportSqlite(repo, file)).rejects.toThrow(/checksum mismatch/);
  });

  it('a full file (max size reached) stops with a typed error and leaves the file valid at a commit boundary', async () => {
    const repo = generated(Array.from({ length: 400 }, (_, i) => [{ kind: 'insert', k: i } as Op, { kind: 'insert', k: i + 100_000 } as Op]));
    const file = path.join(tmp(), 'full.sqlite');
    const err = await exportSqlite(repo, file, { maxFileBytes: 96 * 1024, batchBytes: 2048 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportStoppedError);
    expect((err as Error).message).toMatch(/disk is full/);
    const py = pythonRead(file);
    const at = Number(py.meta.tx_offset);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(400);
    // The file is exactly the state after transaction `at` (two rows per transaction after the first).
    expect(py.tables.things!.rows.length).toBe(2 * at);
    const done = await exportSqlite(repo, file);
    expect(done.resumedFrom).toBe(at);
    expect(exportedRows(file, repo)).toEqual(replayedRows(repo));
  });

  it('a column type the decoder cannot read is an error naming table and column', async () => {
    const enc = txdataEncoder<RawRow>((row, out) => out.write(row));
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo, {}, enc);
    const decl = declare(TABLE, 'odd', [
      ['ok', AT.U8],
      ['weird', { tag: 'Ref', value: 7 } as never],
    ]);
    log.commit([{ offset: 0, txdata: txdata({ inserts: [[1, [decl.table]], [2, decl.columns]] }) }]);
    log.commit([{ offset: 1, txdata: txdata({ inserts: [[TABLE, [Uint8Array.of(1)]]] }) }]);
    log.close();
    const err = await exportSqlite(repo, path.join(tmp(), 'odd.sqlite')).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/odd/);
    expect((err as Error).message).toMatch(/weird/);
  });

  it('--follow applies commits appended by a writer while it runs, each commit whole', async () => {
    const dir = tmp();
    const enc = txdataEncoder<RawRow>((row, out) => out.write(row));
    const writer = GenericLog.open(new FsRepo(dir), {}, enc);
    const decl = declare(TABLE, 'things', COLUMNS);
    writer.commit([{ offset: 0, txdata: txdata({ inserts: [[1, [decl.table]], [2, decl.columns]] }) }]);
    const file = path.join(tmp(), 'live.sqlite');
    const ac = new AbortController();
    const seen: number[] = [];
    const running = exportSqlite(dir, file, { follow: true, pollMs: 20, signal: ac.signal, onProgress: (p) => seen.push(p.lastOffset) });
    const count = () =>
      Number(execFileSync('python3', ['-c', 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from things").fetchone()[0])', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    for (let k = 1; k <= 5; k++) {
      // Two rows per transaction: a reader must never see one without the other.
      writer.commit([{ offset: k, txdata: txdata({ inserts: [[TABLE, [rowOf(k, 1n), rowOf(k + 50, 2n)]]] }) }]);
      const deadline = Date.now() + 10_000;
      let n = -1;
      while (Date.now() < deadline && (n = fs.existsSync(file) ? safeCount(count) : -1) < 2 * k) await new Promise((r) => setTimeout(r, 20));
      expect(n).toBe(2 * k);
    }
    ac.abort();
    const result = await running;
    expect(result.lastOffset).toBe(5);
    expect(seen.at(-1)).toBe(5);
    writer.close();
  });
});

function safeCount(f: () => number): number {
  try {
    return f();
  } catch {
    return -1; // the table does not exist yet
  }
}

/** Rows of the `things` table of an export, decoded from their BSATN (through our own reader). */
class SqliteReplay_rows {
  constructor(private readonly file: string) {}
  things(): unknown[] {
    const py = pythonRead(this.file).tables.things;
    if (!py) return [];
    const cols = COLUMNS.map(([name, type]) => ({ name, type }));
    const codec = rowCodec(cols);
    const h = py.columns.indexOf('_stdb_bsatn');
    return py.rows.map((r) => rowToJson(codec.decode(new BinaryReader(Buffer.from(String(r[h]), 'hex'))), cols));
  }
}

describe('changes', () => {
  it('v1.2: the same inserts and deletes as the decoded transactions, in order, with caller and timestamp', () => {
    const flat = [...decodedTransactions(V12)].flatMap((t) => [
      ...t.deletes.flatMap((d) => d.rows.map((row) => ({ txOffset: t.offset, table: d.table, op: 'delete', row }))),
      ...t.inserts.flatMap((d) => d.rows.map((row) => ({ txOffset: t.offset, table: d.table, op: 'insert', row }))),
    ]);
    const got = [...changesSync(V12)];
    const key = (c: { txOffset: number; table: string; op: string; row: unknown }) => JSON.stringify([c.txOffset, c.table, c.op, c.row]);
    expect(got.map(key).sort()).toEqual(flat.map(key).sort());
    expect(got.map((c) => c.txOffset)).toEqual([...got.map((c) => c.txOffset)].sort((a, b) => a - b));
    const msgs = got.filter((c) => c.table === 'message');
    expect(msgs.map((c) => [c.op, c.row.text, c.reducer])).toEqual([
      ['insert', 'omg', 'send_message'],
      ['insert', 'clay aiken!\n', 'send_message'],
    ]);
    // The caller is the message's sender; the call's timestamp is the message's.
    for (const m of msgs) {
      expect(m.caller).toBe(m.row.sender);
      expect(m.timestamp).toBe(m.row.sent);
      expect(m.connectionId).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('--from, --to and --table filter; earlier transactions still give the schema', () => {
    const all = [...changesSync(V12)];
    expect([...changesSync(V12, { from: 3, to: 4 })]).toEqual(all.filter((c) => c.txOffset >= 3 && c.txOffset <= 4));
    expect([...changesSync(V12, { table: 'user' })]).toEqual(all.filter((c) => c.table === 'user'));
    expect([...changesSync(V12, { table: 4097 })]).toEqual(all.filter((c) => c.tableId === 4097));
    expect(() => [...changesSync(V12, { from: -1 })]).toThrow(/from/);
  });

  it('the JSON text lines equal JSON.stringify of the change objects (real logs and a generated one with every column kind)', () => {
    const gen = generated(Array.from({ length: 60 }, (_, i) => [{ kind: 'insert', k: i } as Op, { kind: 'delete', pick: i * 7 } as Op]));
    for (const src of [V12, V26, gen]) {
      const objects = [...changesSync(src)].map((c) => JSON.stringify(c));
      expect(objects.length).toBeGreaterThan(0);
      expect([...changeLinesSync(src)]).toEqual(objects);
      expect([...changeLinesSync(src, { from: 5, table: 'things' })]).toEqual([...changesSync(src, { from: 5, table: 'things' })].map((c) => JSON.stringify(c)));
    }
  });

  it('follows a growing log', async () => {
    const dir = tmp();
    const enc = txdataEncoder<RawRow>((row, out) => out.write(row));
    const writer = GenericLog.open(new FsRepo(dir), {}, enc);
    const decl = declare(TABLE, 'things', COLUMNS);
    writer.commit([{ offset: 0, txdata: txdata({ inserts: [[1, [decl.table]], [2, decl.columns]] }) }]);
    const ac = new AbortController();
    const got: number[] = [];
    const reading = (async () => {
      for await (const c of changes(dir, { follow: true, pollMs: 20, signal: ac.signal, table: 'things' })) {
        got.push(c.row.id as number);
        if (got.length === 3) ac.abort();
      }
    })();
    for (let k = 1; k <= 3; k++) {
      await new Promise((r) => setTimeout(r, 50));
      writer.commit([{ offset: k, txdata: txdata({ inserts: [[TABLE, [rowOf(k, 0n)]]] }) }]);
    }
    await reading;
    expect(got).toEqual([1, 2, 3]);
    writer.close();
  });
});
