/**
 * Issue 17, "clog never gives false assurance": the SpacetimeDB view fully decoded, as a user runs it
 * on the two real logs: column types spelled (`rows st_column`, `schema`), callers and timestamps in
 * `dump --txdata`, bootstrap deletes shown apart in `tables`, logs that are not SpacetimeDB's named
 * so (exit 1), offsets past the end said so, and damage named before its consequences.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../unit/maintenance/log-fixtures.js';
import { FIXTURES, clog, copyFixture, generatedLog, jsonLines } from './clog-run.js';

const V12 = path.join(FIXTURES, 'spacetimedb-v1.2', 'clog');
const V26 = path.join(FIXTURES, 'spacetimedb-v2.6', 'clog');
const tmp = tempDirs();

type Obj = Record<string, unknown>;

interface Described {
  tableId: number;
  name: string;
  type: string;
  access: string | null;
  schemaFrom: string;
  columns: { position: number; name: string; type: string; typeBsatn: string }[];
  primaryKey: string[] | null;
  indexes: { indexId: number; name: string; algorithm: string; columns: string[] }[];
  constraints: { constraintId: number; name: string; kind: string; columns: string[] }[];
  sequences: { sequenceId: number; name: string; column: string; start: string; allocated: string }[];
  view: { viewId: number; name: string; public: boolean; anonymous: boolean } | null;
  problem: string | null;
}

describe('clog rows st_column: types, not BSATN hex', () => {
  it('v1.2: the chat module’s column types spelled', async () => {
    const r = await clog('rows', V12, 'st_column');
    expect(r.code).toBe(0);
    const rows = jsonLines(r.stdout) as Obj[];
    expect(rows.map((x) => [x.table_id, x.col_name, x.col_type])).toEqual([
      [4097, 'sender', 'Identity'],
      [4097, 'sent', 'Timestamp'],
      [4097, 'text', 'String'],
      [4098, 'identity', 'Identity'],
      [4098, 'name', 'Option<String>'],
      [4098, 'online', 'Bool'],
    ]);
  });

  it('v2.6: st_column and st_view_column, no hex left', async () => {
    for (const table of ['st_column', 'st_view_column']) {
      const rows = jsonLines((await clog('rows', V26, table)).stdout) as Obj[];
      expect(rows.length).toBeGreaterThan(10);
      const types = new Set(rows.map((x) => x.col_type));
      expect(types.has('U64')).toBe(true);
      for (const t of types) expect(t).toMatch(/^(U64|Identity)$/);
    }
  });

  it('changes and dump --txdata keep the exact BSATN hex (streams for programs, equal to each other)', async () => {
    const [tx0] = jsonLines((await clog('dump', V12, '--txdata', '--to', '0')).stdout) as { inserts: { table: string; rows: Obj[] }[] }[];
    const dumped = tx0!.inserts.find((o) => o.table === 'st_column')!.rows;
    const raw = jsonLines((await clog('changes', V12, '--table', 'st_column')).stdout) as { row: Obj }[];
    expect(raw.map((x) => x.row)).toEqual(dumped);
    for (const x of dumped) expect(x.col_type).toMatch(/^[0-9a-f]+$/);
  });
});

describe('clog schema', () => {
  it('v1.2, text: user tables with columns, key, index, constraint; system tables built in', async () => {
    const r = await clog('schema', V12);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const user = r.stdout.split('\n\n').find((b) => b.startsWith('user '))!;
    expect(user).toMatch(/^user \(table 4098; user, public\)$/m);
    expect(user).toMatch(/^ +0 +identity +Identity$/m);
    expect(user).toMatch(/^ +1 +name +Option<String>$/m);
    expect(user).toMatch(/^ +2 +online +Bool$/m);
    expect(user).toMatch(/^ +primary key \(identity\)$/m);
    expect(user).toMatch(/^ +index user_identity_idx_btree \(id 4097\): btree \(identity\)$/m);
    expect(user).toMatch(/^ +constraint user_identity_key \(id 4097\): unique \(identity\)$/m);
    const stTable = r.stdout.split('\n\n').find((b) => b.startsWith('st_table '))!;
    expect(stTable).toMatch(/columns as SpacetimeDB builds them/);
    expect(stTable).toMatch(/sequence st_table_table_id_seq \(id 1\) on table_id: start 4097, increment 1, allocated up to 8193/);
  });

  it('v1.2, --json: the same, with each type’s exact BSATN (equal to what st_column holds)', async () => {
    const out = JSON.parse((await clog('schema', V12, '--json')).stdout) as Described[];
    expect(out.map((t) => t.name)).toEqual(['st_table', 'st_column', 'st_sequence', 'st_index', 'st_constraint', 'st_module', 'st_client', 'message', 'user']);
    const message = out.find((t) => t.name === 'message')!;
    expect(message).toMatchObject({ tableId: 4097, type: 'user', access: 'public', schemaFrom: 'log', primaryKey: null, indexes: [], problem: null });
    expect(message.columns.map((c) => `${c.name}: ${c.type}`)).toEqual(['sender: Identity', 'sent: Timestamp', 'text: String']);
    const raw = jsonLines((await clog('changes', V12, '--table', 'st_column')).stdout) as { row: Obj }[];
    for (const t of out.filter((x) => x.schemaFrom === 'log')) {
      for (const c of t.columns) {
        expect(raw.map((x) => x.row)).toContainEqual({ table_id: t.tableId, col_pos: c.position, col_name: c.name, col_type: c.typeBsatn });
      }
    }
  });

  it('v2.6 --user: private tables with multi-column indexes, views with their flags', async () => {
    const out = JSON.parse((await clog('schema', V26, '--user', '--json')).stdout) as Described[];
    expect(out.every((t) => t.type !== 'system')).toBe(true);
    expect(out.map((t) => t.tableId)).toEqual([4096, 4097, 4098, 4099, 4100, 4101, 4102, 4103, 4104]);
    const info = out.find((t) => t.name === 'player_info')!;
    expect(info).toMatchObject({ type: 'user', access: 'private', primaryKey: ['id'] });
    expect(info.indexes.map((i) => `${i.algorithm} ${i.columns.join(',')}`)).toEqual(['btree id', 'btree age,level']);
    expect(info.constraints).toEqual([{ constraintId: 4096, name: 'player_info_id_key', kind: 'unique', columns: ['id'] }]);
    const player = out.find((t) => t.name === 'player')!;
    expect(player).toMatchObject({ type: 'view', view: { viewId: 4097, name: 'player', public: true, anonymous: false } });
    expect(player.columns.map((c) => c.type)).toEqual(['Identity', 'U64', 'U64']);
    expect(out.filter((t) => t.type === 'view').length).toBe(6);
  });

  it('one table by name or id; an unknown one exits 2 naming the tables', async () => {
    const one = JSON.parse((await clog('schema', V12, 'user', '--json')).stdout) as Described[];
    expect(one.map((t) => t.tableId)).toEqual([4098]);
    const byId = await clog('schema', V12, '4097');
    expect(byId.stdout.startsWith('message (table 4097; user, public)\n')).toBe(true);
    expect(byId.stdout).not.toMatch(/^user /m);
    const r = await clog('schema', V12, 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^clog: no table 'nope' in this log; tables: .*message, user \[USAGE\]$/m);
  });

  it('--at 0: the schema as the first transaction left it', async () => {
    const at0 = JSON.parse((await clog('schema', V12, '--at', '0', '--json')).stdout) as Described[];
    expect(at0.find((t) => t.name === 'user')!.columns.length).toBe(3);
  });
});

describe('clog dump --txdata: callers and timestamps decoded', () => {
  it('v1.2: every reducer call names its caller, connection and time; the arguments are hex', async () => {
    const r = await clog('dump', V12, '--txdata');
    expect(r.code).toBe(0);
    const txs = jsonLines(r.stdout) as Obj[];
    for (const t of txs) expect('args' in t).toBe(false);
    const calls = txs.filter((t) => t.reducer !== null);
    expect(calls.length).toBe(8);
    for (const t of calls) {
      expect(t.caller).toMatch(/^c200[0-9a-f]{60}$/);
      expect(t.connectionId).toMatch(/^[0-9a-f]{32}$/);
      expect(t.timestamp).toMatch(/^2025-08-18T1\d:\d\d:\d\d\.\d{6}Z$/);
    }
    // the connect/disconnect lifecycle reducers take no arguments
    for (const t of calls.filter((x) => x.reducer !== 'send_message')) expect(t.argsHex).toBe('');
    // send_message(text): its argument is one BSATN string, and the module stored the call's caller and
    // time in the message row: what the log decodes independently must agree
    const sends = calls.filter((t) => t.reducer === 'send_message') as (Obj & { inserts: { rows: Obj[] }[] })[];
    expect(sends.length).toBe(2);
    for (const t of sends) {
      const args = Buffer.from(t.argsHex as string, 'hex');
      const len = args.readUInt32LE(0);
      expect(args.length).toBe(4 + len);
      const row = t.inserts[0]!.rows[0]!;
      expect(args.subarray(4).toString('utf8')).toBe(row.text);
      expect(t.caller).toBe(row.sender);
      expect(t.timestamp).toBe(row.sent);
    }
    // connections: identity_connected and identity_disconnected of one connection carry the same id
    const connected = new Set(calls.filter((t) => t.reducer === 'identity_connected').map((t) => t.connectionId));
    const disconnected = new Set(calls.filter((t) => t.reducer === 'identity_disconnected').map((t) => t.connectionId));
    expect(connected.size).toBe(3);
    expect(disconnected).toEqual(connected);
  });

  it('v2.6: the bootstrap transaction has no inputs: all null', async () => {
    const [tx] = jsonLines((await clog('dump', V26, '--txdata')).stdout) as Obj[];
    expect(tx).toMatchObject({ offset: 0, reducer: null, caller: null, connectionId: null, timestamp: null, argsHex: null });
  });
});

describe('clog tables: deletes of rows from before the log', () => {
  it('v2.6: st_sequence’s 4 rewritten rows are UNMATCHED, not DELETES, with the note', async () => {
    const r = await clog('tables', V26);
    expect(r.stdout).toMatch(/^ *3 +st_sequence +system +4 +4 +0 +4$/m);
    expect(r.stdout).toMatch(/UNMATCHED: deletes of rows this log never inserted/);
    const out = JSON.parse((await clog('tables', V26, '--json')).stdout) as { tables: Obj[] };
    expect(out.tables.find((t) => t.name === 'st_sequence')).toMatchObject({ rows: 4, inserts: 4, deletes: 4, deletesAbsent: 4 });
  });

});

describe('a log whose records are not SpacetimeDB transactions', () => {
  it('tables, rows, schema, export, changes, dump --txdata: exit 1, saying so with the offset; plain dump works', async () => {
    const root = tmp();
    const { dir } = generatedLog(root, 'raw');
    const sqlite = path.join(root, 'out.sqlite');
    for (const args of [
      ['tables', dir],
      ['rows', dir, 'st_table'],
      ['schema', dir],
      ['export', dir, '--sqlite', sqlite],
      ['changes', dir],
      ['dump', dir, '--txdata'],
    ]) {
      const r = await clog(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/^clog: replay stopped at tx offset 0: .*do(es)? not look like (a )?SpacetimeDB transactions? \(Txdata\)/);
      expect(r.stderr.split('\n').length, 'one line').toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    // no temporary replay file is mentioned where the user gave none
    expect((await clog('tables', dir)).stderr).not.toMatch(/SQLite/);
    expect((await clog('export', dir, '--sqlite', sqlite)).stderr).toMatch(/the SQLite file holds no transaction yet/);
    const dump = await clog('dump', dir);
    expect(dump.code).toBe(0);
    expect(jsonLines(dump.stdout).length).toBe(40);
  });
});

describe('offsets past the end of the log', () => {
  it('dump --from past the end: exit 2, saying where the log ends; at the last offset: the commit', async () => {
    for (const extra of [[], ['--txdata']]) {
      const r = await clog('dump', V12, '--from', '5000', ...extra);
      expect([r.code, r.stdout]).toEqual([2, '']);
      expect(r.stderr).toBe('clog: --from 5000 is past the end of the log (last offset 8) [USAGE]\nusage: clog dump [options] <dir>\n');
      const last = await clog('dump', V12, '--from', '8', ...extra);
      expect([last.code, last.stderr]).toEqual([0, '']);
      expect(jsonLines(last.stdout).length).toBe(1);
    }
  });

  it('changes --from past the end: exit 2; a quiet range inside the log: exit 0, nothing', async () => {
    const r = await clog('changes', V12, '--from', '9');
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', 'clog: --from 9 is past the end of the log (last offset 8) [USAGE]\nusage: clog changes [options] <dir>\n']);
    const quiet = await clog('changes', V12, '--from', '8', '--table', 'message');
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
  });

  it('a log of four segments: the end is found in the newest one', async () => {
    const { dir } = generatedLog(tmp(), 'segs');
    const r = await clog('dump', dir, '--from', '40');
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', 'clog: --from 40 is past the end of the log (last offset 39) [USAGE]\nusage: clog dump [options] <dir>\n']);
    const last = await clog('dump', dir, '--from', '39');
    expect((jsonLines(last.stdout) as { minTxOffset: number; segment: number }[]).map((c) => [c.minTxOffset, c.segment])).toEqual([[39, 39]]);
  });

  it('an empty log: --from 1 is past its end', async () => {
    const dir = path.join(tmp(), 'empty');
    fs.mkdirSync(dir);
    const r = await clog('dump', dir, '--from', '1');
    expect([r.code, r.stderr]).toEqual([
      2,
      `clog: no commitlog segments (*.stdb.log) in ${dir}\nclog: --from 1 is past the end of the log (the log has no transactions) [USAGE]\nusage: clog dump [options] <dir>\n`,
    ]);
    expect((await clog('dump', dir)).code).toBe(0);
  });

  it('tables, rows, schema, export --at past the end: the final state, with a warning', async () => {
    const warning = /^clog: warning: --at 5000 is past the end of the log \(last offset 8\); .* after offset 8\n$/;
    for (const cmd of [['tables'], ['rows', 'message'], ['schema']]) {
      const [name, ...rest] = cmd;
      const past = await clog(name!, V12, ...rest, '--at', '5000');
      const whole = await clog(name!, V12, ...rest);
      expect(past.code, cmd.join(' ')).toBe(0);
      expect(past.stderr, cmd.join(' ')).toMatch(warning);
      expect(past.stdout, cmd.join(' ')).toBe(whole.stdout);
      // at the last offset: no warning
      expect((await clog(name!, V12, ...rest, '--at', '8')).stderr).toBe('');
    }
    const r = await clog('export', V12, '--sqlite', path.join(tmp(), 'x.sqlite'), '--at', '5000');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^clog: warning: --at 5000 is past the end of the log \(last offset 8\); the file holds the state after offset 8\n$/);
    expect(r.stdout).toMatch(/up to tx offset 8/);
  });
});

describe('damage in the middle of a log is named first', () => {
  it('a checksum mismatch at tx 4: dump, dump --txdata, tables, changes, export exit 1 naming it', async () => {
    const { dir } = copyFixture('spacetimedb-v1.2', tmp());
    const place = (jsonLines((await clog('dump', dir)).stdout) as { minTxOffset: number; byteOffset: number }[]).find((c) => c.minTxOffset === 4)!;
    const seg = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.stdb.log'))!);
    const bytes = fs.readFileSync(seg);
    bytes[place.byteOffset + 30]! ^= 0xff; // inside its records
    fs.writeFileSync(seg, bytes);
    const dump = await clog('dump', dir);
    expect(dump.code).toBe(1);
    expect((jsonLines(dump.stdout) as { minTxOffset: number }[]).map((c) => c.minTxOffset)).toEqual([0, 1, 2, 3]);
    for (const args of [['dump', dir], ['dump', dir, '--txdata'], ['tables', dir], ['changes', dir], ['export', dir, '--sqlite', path.join(tmp(), 'd.sqlite')]]) {
      const r = await clog(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/^clog: checksum mismatch at offset=4 in segment 0[ \n]/);
      expect(r.stderr).not.toMatch(/out-of-order/);
    }
  });
});

describe('a torn last commit is left out, and said so', () => {
  it('tables, rows, schema, export, changes, dump --txdata: the state before it, a warning naming it, exit 0; dump exit 1', async () => {
    const { dir } = copyFixture('spacetimedb-v1.2', tmp());
    const seg = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.stdb.log'))!);
    fs.truncateSync(seg, fs.statSync(seg).size - 20); // the last commit (tx 8) cut short, as a crash leaves it
    const warning = /^clog: warning: the log's last commit is damaged or incomplete \(a torn write\?\) and was left out: .*offset 8.*\n$/;
    for (const args of [['tables', dir], ['rows', dir, 'user'], ['schema', dir], ['export', dir, '--sqlite', path.join(tmp(), 't.sqlite')], ['changes', dir], ['dump', dir, '--txdata']]) {
      const r = await clog(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(warning);
    }
    const tables = JSON.parse((await clog('tables', dir, '--json')).stdout) as { transactions: number };
    expect(tables.transactions).toBe(8);
    const txs = jsonLines((await clog('dump', dir, '--txdata')).stdout) as { offset: number }[];
    expect(txs.map((t) => t.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // stopping before the tail reads nothing of it: no warning
    expect((await clog('tables', dir, '--at', '5')).stderr).toBe('');
    const dump = await clog('dump', dir);
    expect(dump.code).toBe(1);
    expect(dump.stderr).toMatch(/offset 8/);
  });
});
