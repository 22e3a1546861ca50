/**
 * Replay semantics (issue 6) on synthetic logs: schemas bootstrapped from st_table/st_column rows,
 * inserts add, deletes remove an equal row (or only count), truncates clear; `at` is inclusive;
 * undecodable input fails with a ReplayError naming the tx offset, never a wrong table.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AlgebraicType, ReplayError, encodeTxdata, replay } from '../../../src/api/replay.js';
import {
  ByteWriter,
  GenericLog,
  MemoryRepo,
  NotFoundError,
  TraversalError,
  commitIterator,
} from '../../../src/index.js';
import { AT } from '../../../src/replay/stdb.js';
import { type RawRow, type TxSpec, buildLog, declare, stColumnRow, stTableRow, txdata, userRow } from './log-builder.js';

const PERSON: [string, AlgebraicType][] = [
  ['id', AT.U64],
  ['name', AT.String],
];
const P = 4096;
const person = (id: number, name: string): RawRow => userRow(PERSON, { id: BigInt(id), name });
const decl = declare(P, 'person', PERSON);
const CREATE: TxSpec = { inserts: [[1, [decl.table]], [2, decl.columns]] };

function tableOf(r: ReturnType<typeof replay>, name: string) {
  const t = r.tables.find((x) => x.name === name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
}

/** The bytes of one Txdata record. */
function recordOf(spec: TxSpec): Uint8Array {
  const out = new ByteWriter();
  encodeTxdata(txdata(spec), (r: RawRow, w) => w.write(r), out);
  return out.bytes().slice();
}

/** A log of raw records, one commit each (records are not re-encoded, so they may be damaged). */
function rawLog(records: Uint8Array[]): MemoryRepo {
  const repo = new MemoryRepo();
  const log = GenericLog.open(repo);
  for (const r of records) {
    log.append(r);
    log.commit();
  }
  log.close();
  return repo;
}

function catchReplay(f: () => unknown): ReplayError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ReplayError);
    return e as ReplayError;
  }
  throw new Error('replay did not throw');
}

describe('replay: inserts, deletes, truncates', () => {
  const repo = buildLog([
    // 0: the table is declared and written in one transaction (meta rows have smaller table ids)
    { inserts: [[1, [decl.table]], [2, decl.columns], [P, [person(1, 'ann'), person(2, 'bob')]]] },
    // 1: an update is a delete and an insert
    { reducer: 'rename', inserts: [[P, [person(1, 'anna')]]], deletes: [[P, [person(1, 'ann')]]] },
    // 2: deleting a row that was never inserted counts but changes nothing
    { reducer: 'rename', deletes: [[P, [person(9, 'zed')]]] },
    // 3
    { reducer: 'clear', truncates: [P] },
    // 4
    { reducer: 'add', inserts: [[P, [person(3, 'cy')]]] },
  ]);

  const live = (at?: number) => tableOf(replay(repo, { at }), 'person').rows;

  it('folds every transaction', () => {
    const r = replay(repo);
    expect(r.transactions).toBe(5);
    expect(r.lastOffset).toBe(4);
    expect(r.reducers).toEqual({ rename: 2, clear: 1, add: 1 });
    const t = tableOf(r, 'person');
    expect(t).toMatchObject({ tableId: P, tableType: 'user', isView: false, inserts: 4, deletes: 2, truncates: 1 });
    expect(t.rows).toEqual([{ id: 3n, name: 'cy' }]);
    expect(t.columns.map((c) => c.name)).toEqual(['id', 'name']);
  });

  it('`at` is inclusive: the state after that transaction', () => {
    expect(live(0)).toEqual([
      { id: 1n, name: 'ann' },
      { id: 2n, name: 'bob' },
    ]);
    expect(live(1)).toEqual([
      { id: 2n, name: 'bob' },
      { id: 1n, name: 'anna' },
    ]);
    expect(live(2)).toEqual(live(1));
    expect(tableOf(replay(repo, { at: 2 }), 'person').deletes).toBe(2);
    expect(live(3)).toEqual([]);
    expect(replay(repo, { at: 100 }).transactions).toBe(5);
  });

  it('lists the system tables touched and no others', () => {
    expect(replay(repo).tables.map((t) => [t.tableId, t.name, t.rows.length])).toEqual([
      [1, 'st_table', 1],
      [2, 'st_column', 2],
      [P, 'person', 1],
    ]);
  });
});

describe('replay: tables listed', () => {
  it('a user table declared in st_table but never written is listed with 0 rows', () => {
    const other = declare(P + 1, 'empty', [['x', AT.U32]]);
    const repo = buildLog([{ inserts: [[1, [decl.table, other.table]], [2, [...decl.columns, ...other.columns]]] }]);
    const r = replay(repo);
    expect(r.tables.filter((t) => t.tableId >= P).map((t) => [t.name, t.rows.length, t.inserts, t.deletes])).toEqual([
      ['person', 0, 0, 0],
      ['empty', 0, 0, 0],
    ]);
    expect(tableOf(r, 'empty').columns).toEqual([{ name: 'x', type: AT.U32 }]);
  });

  it('a directory that does not exist is NotFound, and is not created', () => {
    const dir = path.join(os.tmpdir(), `clog-missing-${process.pid}-${Date.now()}`);
    expect(() => replay(dir)).toThrow(NotFoundError);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('an empty log replays to nothing', () => {
    expect(replay(new MemoryRepo())).toEqual({ transactions: 0, lastOffset: -1, tables: [], reducers: {} });
  });

  it('a table whose st_table row was deleted keeps its name and rows', () => {
    const repo = buildLog([
      { inserts: [[1, [decl.table]], [2, decl.columns], [P, [person(1, 'ann')]]] },
      { deletes: [[1, [decl.table]]] },
    ]);
    const t = tableOf(replay(repo), 'person');
    expect(t.rows).toEqual([{ id: 1n, name: 'ann' }]);
  });

  it('a migration transaction replacing a column decodes old rows with the old type, new with the new', () => {
    const oldCol = stColumnRow(P, 1, 'name', AT.String);
    const newCol = stColumnRow(P, 1, 'name', AT.U32);
    const repo = buildLog([
      { inserts: [[1, [decl.table]], [2, decl.columns], [P, [person(1, 'ann')]]] },
      {
        inserts: [[2, [newCol]], [P, [userRow([['id', AT.U64], ['name', AT.U32]], { id: 1n, name: 7 })]]],
        deletes: [[2, [oldCol]], [P, [person(1, 'ann')]]],
      },
      { inserts: [[P, [userRow([['id', AT.U64], ['name', AT.U32]], { id: 2n, name: 8 })]]] },
    ]);
    const t = tableOf(replay(repo), 'person');
    expect(t.rows).toEqual([
      { id: 1n, name: 7 },
      { id: 2n, name: 8 },
    ]);
    expect(t.columns[1]).toEqual({ name: 'name', type: AT.U32 });
  });
});

describe('replay: dropping a table', () => {
  it('rows deleted in the transaction that drops their table decode with the schema from before it', () => {
    const repo = buildLog([
      { inserts: [[1, [decl.table]], [2, decl.columns], [P, [person(1, 'ann')]]] },
      { deletes: [[1, [decl.table]], [2, decl.columns], [P, [person(1, 'ann')]]] },
    ]);
    const r = replay(repo);
    const t = tableOf(r, 'person');
    expect([t.rows.length, t.inserts, t.deletes]).toEqual([0, 1, 1]);
    expect(tableOf(r, 'st_column').rows).toEqual([]);
  });
});

describe('replay: errors name the offset', () => {
  it('a table nothing declares: UnknownTable', () => {
    const repo = buildLog([CREATE, { inserts: [[P + 7, [person(1, 'x')]]] }]);
    const e = catchReplay(() => replay(repo));
    expect(e).toMatchObject({ reason: 'UnknownTable', offset: 1, tableId: P + 7, code: 'TXDATA_DECODE' });
    expect(e.message).toMatch(/tx offset 1/);
    // Up to the offset before it, all is well.
    expect(replay(repo, { at: 0 }).transactions).toBe(1);
  });

  it('a short row: Damaged, at its offset and table', () => {
    const repo = buildLog([CREATE, { reducer: 'r' }, { inserts: [[P, [Uint8Array.of(1, 2, 3)]]] }]);
    const e = catchReplay(() => replay(repo));
    expect(e).toMatchObject({ reason: 'Damaged', offset: 2, tableId: P });
    expect(e.message).toMatch(/person/);
  });

  it('bytes left in a commit after its record: Damaged', () => {
    const repo = rawLog([Uint8Array.from([...recordOf(CREATE), 0])]);
    const e = catchReplay(() => replay(repo));
    expect(e).toMatchObject({ reason: 'Damaged', offset: 0 });
    expect(e.message).toMatch(/1 bytes left over/);
  });

  it('an undecodable st_column.col_type or a missing column position: BadSchema', () => {
    const bad = buildLog([
      { inserts: [[1, [stTableRow(P, 't')]], [2, [stColumnRow(P, 0, 'x', Uint8Array.of(99))]]] },
      { inserts: [[P, [Uint8Array.of(0)]]] },
    ]);
    expect(catchReplay(() => replay(bad))).toMatchObject({ reason: 'BadSchema', offset: 1, tableId: P });
    const gap = buildLog([
      { inserts: [[1, [stTableRow(P, 't')]], [2, [stColumnRow(P, 1, 'x', AT.U8)]]] },
      { inserts: [[P, [Uint8Array.of(0)]]] },
    ]);
    expect(catchReplay(() => replay(gap)).message).toMatch(/no st_column row for column 0/);
  });

  it('after st_column is truncated the table has no schema', () => {
    const repo = buildLog([CREATE, { truncates: [2] }, { inserts: [[P, [person(1, 'a')]]] }]);
    expect(catchReplay(() => replay(repo))).toMatchObject({ reason: 'BadSchema', offset: 2 });
  });

  it('version 1 does not know 2.x system tables; the default knows both', () => {
    const row = userRow([['table_id', AT.U32]], { table_id: P });
    const repo = buildLog([{ inserts: [[17, [row]]] }]);
    expect(catchReplay(() => replay(repo, { version: 1 }))).toMatchObject({ reason: 'UnknownTable', tableId: 17 });
    expect(tableOf(replay(repo), 'st_event_table').rows).toEqual([{ table_id: P }]);
  });

  it('a torn last commit ends the replay (SPEC §7.5); a damaged commit before others throws', () => {
    const txs: TxSpec[] = [CREATE, ...[1, 2, 3].map((i) => ({ inserts: [[P, [person(i, 'p' + i)]]] }) as TxSpec)];
    const torn = buildLog(txs);
    const seg = torn.segments.get(0)!;
    seg.setLength(seg.length - 3);
    expect(tableOf(replay(torn), 'person').rows.length).toBe(2);

    const flipped = buildLog(txs);
    const it = commitIterator(flipped);
    const starts: number[] = [];
    for (const _ of it) starts.push(it.byteOffset);
    flipped.segments.get(0)!.data[starts[1]! + 25]! ^= 0xff;
    let error: unknown;
    try {
      replay(flipped);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TraversalError);
    expect((error as Error).message).toMatch(/offset=1/);
  });
});

describe('replay: damaged payloads (CRC intact) never yield a wrong table', () => {
  const goodBytes = recordOf({ reducer: 'add', inserts: [[P, [person(1, 'ann'), person(2, 'bob')]]], deletes: [[P, [person(3, 'cy')]]] });
  const create = recordOf(CREATE);

  it('property: a flipped byte, a cut record or random bytes either replay to person rows or throw a ReplayError at offset 1', () => {
    const damage = fc.oneof(
      fc.record({ at: fc.nat({ max: goodBytes.length - 1 }), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => {
        const b = goodBytes.slice();
        b[at]! ^= xor;
        return b;
      }),
      fc.nat({ max: goodBytes.length - 1 }).map((n) => goodBytes.slice(0, n)),
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
    );
    fc.assert(
      fc.property(damage, (record) => {
        let result: ReturnType<typeof replay> | undefined;
        try {
          result = replay(rawLog([create, record]));
        } catch (e) {
          expect(e).toBeInstanceOf(ReplayError);
          expect((e as ReplayError).offset).toBe(1);
          return;
        }
        // Accepted: then every row decoded from bytes that are a valid person row, all bytes used.
        const t = tableOf(result, 'person');
        for (const row of t.rows) expect(Object.keys(row)).toEqual(['id', 'name']);
        expect(result.tables.every((x) => x.tableId === 1 || x.tableId === 2 || x.tableId === P)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});

describe('replay: property against a multiset model', () => {
  it('live rows are the inserts minus the deletes of live rows, in first-insert order', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('ins' as const), id: fc.nat({ max: 5 }) }),
      fc.record({ kind: fc.constant('del' as const), id: fc.nat({ max: 5 }) }),
      fc.record({ kind: fc.constant('trunc' as const) }),
    );
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 6 }), { maxLength: 8 }), (txs) => {
        const model = new Map<number, number>();
        let inserts = 0;
        let deletes = 0;
        const specs: TxSpec[] = [CREATE];
        for (const ops of txs) {
          // Within a Txdata all inserts come first, then deletes, then truncates.
          const ins = ops.filter((o) => o.kind === 'ins') as { id: number }[];
          const del = ops.filter((o) => o.kind === 'del') as { id: number }[];
          const trunc = ops.some((o) => o.kind === 'trunc');
          for (const o of ins) model.set(o.id, (model.get(o.id) ?? 0) + 1);
          for (const o of del) {
            const n = model.get(o.id) ?? 0;
            if (n > 1) model.set(o.id, n - 1);
            else model.delete(o.id);
          }
          if (trunc) model.clear();
          inserts += ins.length;
          deletes += del.length;
          const rows = (xs: { id: number }[]) => xs.map((o) => person(o.id, `n${o.id}`));
          specs.push({
            inserts: ins.length ? [[P, rows(ins)]] : [],
            deletes: del.length ? [[P, rows(del)]] : [],
            truncates: trunc ? [P] : [],
          });
        }
        const t = tableOf(replay(buildLog(specs)), 'person');
        const expected: { id: bigint; name: string }[] = [];
        for (const [id, n] of model) for (let i = 0; i < n; i++) expected.push({ id: BigInt(id), name: `n${id}` });
        expect([...t.rows].sort((a, b) => Number((a.id as bigint) - (b.id as bigint)))).toEqual(
          expected.sort((a, b) => Number(a.id - b.id)),
        );
        expect([t.inserts, t.deletes]).toEqual([inserts, deletes]);
      }),
      { numRuns: 256 },
    );
  });
});
