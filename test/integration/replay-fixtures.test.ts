/**
 * Both real SpacetimeDB logs replay to their tables (issue 6). Expectations come from the bytes:
 * system rows written field by field from the Rust structs (system_tables.rs) are searched for in the
 * segment files, message rows are checked against the reducer arguments that produced them (the
 * caller's identity, connection id and timestamp, then the BSATN arguments), and the v2.6 module's
 * program bytes against the Keccak-256 `program_hash` stored beside them.
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BufReader, commits } from '../../src/index.js';
import { ReplayVisitor, decodeInputs, decodeRecordFn, replay, rowToJson } from '../../src/api/replay.js';
import { bytesOf, stColumnRow, stTableRow } from '../unit/replay/log-builder.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const V12 = `${FIXTURES}spacetimedb-v1.2/clog`;
const V26 = `${FIXTURES}spacetimedb-v2.6/clog`;
const segmentBytes = (dir: string): Buffer => fs.readFileSync(`${dir}/00000000000000000000.stdb.log`);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** SATS u256/u128 are little-endian; SpacetimeDB prints identities big-endian. */
const beHex = (b: Uint8Array): string => Buffer.from(b).reverse().toString('hex');

function table(r: ReturnType<typeof replay>, name: string) {
  const t = r.tables.find((x) => x.name === name);
  if (!t) throw new Error(`no table ${name} (have ${r.tables.map((x) => x.name).join(', ')})`);
  return t;
}

describe('every Txdata of both fixtures decodes with the replay visitor, every byte consumed', () => {
  for (const [name, dir, count] of [
    ['v1.2', V12, 9],
    ['v2.6', V26, 1],
  ] as const) {
    it(name, () => {
      const visitor = new ReplayVisitor();
      let n = 0;
      for (const c of commits(dir)) {
        const reader = new BufReader(c.records);
        for (let k = 0; k < c.n; k++) decodeRecordFn(visitor, 1, c.minTxOffset + k, reader);
        expect(reader.remaining).toBe(0);
        n += c.n;
      }
      expect(n).toBe(count);
      expect(replay(dir).transactions).toBe(count);
    });
  }
});

/** Reducer calls of the v1.2 log, read with the Txdata codec only (no row decoding). */
function reducerCalls(dir: string) {
  const out: { offset: number; name: string; identity: string; connectionId: string; micros: bigint; args: Uint8Array }[] = [];
  for (const c of commits(dir)) {
    const r = new BufReader(c.records);
    if (!(r.getU8() & 0x80)) continue;
    const { reducerName, reducerArgs: a } = decodeInputs(r);
    out.push({
      offset: c.minTxOffset,
      name: reducerName,
      identity: beHex(a.subarray(0, 32)),
      connectionId: beHex(a.subarray(32, 48)),
      micros: new DataView(a.buffer, a.byteOffset + 48, 8).getBigInt64(0, true),
      args: a.subarray(56),
    });
  }
  return out;
}

describe('SpacetimeDB 1.2: the quickstart chat module', () => {
  const r = replay(V12);
  const raw = segmentBytes(V12);
  const calls = reducerCalls(V12);

  it('st_table declares message (4097, no primary key) and user (4098, primary key [0]): bytes of StTableRow', () => {
    expect(raw.indexOf(stTableRow(4097, 'message', 'user', 'public', null))).toBeGreaterThan(0);
    expect(raw.indexOf(stTableRow(4098, 'user', 'user', 'public', [0]))).toBeGreaterThan(0);
    expect(r.tables.filter((t) => t.tableType === 'user').map((t) => [t.tableId, t.name])).toEqual([
      [4097, 'message'],
      [4098, 'user'],
    ]);
  });

  it('columns: message(sender Identity, sent Timestamp, text String), user(identity, name Option<String>, online Bool)', () => {
    expect(table(r, 'message').columns.map((c) => c.name)).toEqual(['sender', 'sent', 'text']);
    expect(table(r, 'user').columns.map((c) => c.name)).toEqual(['identity', 'name', 'online']);
    // st_column row (4097, 2, "text", String = tag 04)
    expect(raw.indexOf(stColumnRow(4097, 2, 'text', Uint8Array.of(4)))).toBeGreaterThan(0);
    // (4098, 2, "online", Bool = tag 05)
    expect(raw.indexOf(stColumnRow(4098, 2, 'online', Uint8Array.of(5)))).toBeGreaterThan(0);
  });

  it('reducers: identity_connected ×3, send_message ×2, identity_disconnected ×3', () => {
    const counts: Record<string, number> = {};
    for (const c of calls) counts[c.name] = (counts[c.name] ?? 0) + 1;
    expect(r.reducers).toEqual(counts);
    expect(counts).toEqual({ identity_connected: 3, send_message: 2, identity_disconnected: 3 });
  });

  it('message holds one row per send_message: its caller, its timestamp and its text argument', () => {
    const sends = calls.filter((c) => c.name === 'send_message');
    const expected = sends.map((c) => {
      const len = new DataView(c.args.buffer, c.args.byteOffset, 4).getUint32(0, true);
      expect(c.args.length).toBe(4 + len); // the arguments are exactly one BSATN String
      return {
        sender: c.identity,
        sent: new Date(Number(c.micros / 1000n)).toISOString().replace(/\.\d{3}Z$/, `.${String(c.micros % 1_000_000n).padStart(6, '0')}Z`),
        text: Buffer.from(c.args.subarray(4)).toString('utf8'),
      };
    });
    const msg = table(r, 'message');
    expect(msg.rows.map((row) => rowToJson(row, msg.columns))).toEqual(expected);
    expect(expected.map((m) => m.text)).toEqual(['omg', 'clay aiken!\n']);
    expect([msg.inserts, msg.deletes]).toEqual([2, 0]);
  });

  it('user: online after the first connect (SPEC §10.5 bytes: none, true), offline after the first disconnect', () => {
    const id = calls[0]!.identity;
    expect(id.startsWith('c200')).toBe(true);
    const at1 = table(replay(V12, { at: 1 }), 'user');
    expect(at1.rows.map((row) => rowToJson(row, at1.columns))).toEqual([{ identity: id, name: null, online: true }]);
    const firstDisconnect = calls.find((c) => c.name === 'identity_disconnected')!.offset;
    const before = table(replay(V12, { at: firstDisconnect - 1 }), 'user');
    expect(before.rows.map((row) => row.online)).toEqual([true]);
    const user = table(r, 'user');
    expect(user.rows.map((row) => rowToJson(row, user.columns))).toEqual([{ identity: id, name: null, online: false }]);
    expect([user.inserts, user.deletes]).toEqual([2, 1]);
  });

  it('st_client: one row per live connection (identity, connection id from the reducer args), none at the end', () => {
    const connects = calls.filter((c) => c.name === 'identity_connected');
    const lastConnect = connects[connects.length - 1]!.offset;
    const st = table(replay(V12, { at: lastConnect }), 'st_client');
    expect(
      st.rows.map((row) => rowToJson(row, st.columns)).sort((a, b) => String(a.connection_id).localeCompare(String(b.connection_id))),
    ).toEqual(
      connects
        .map((c) => ({ identity: c.identity, connection_id: c.connectionId }))
        .sort((a, b) => a.connection_id.localeCompare(b.connection_id)),
    );
    expect(table(r, 'st_client')).toMatchObject({ rows: [], inserts: 3, deletes: 3 });
  });

  it('st_sequence: 3 rows inserted at startup, 3 deletes of rows the log never inserted change nothing', () => {
    const seq = table(r, 'st_sequence');
    expect([seq.rows.length, seq.inserts, seq.deletes]).toEqual([3, 3, 3]);
    expect(seq.rows.map((row) => row.sequence_name)).toContain('st_table_table_id_seq');
  });
});

describe('SpacetimeDB 2.6: the smoketest module with player_* tables and views', () => {
  const r = replay(V26);
  const raw = segmentBytes(V26);

  it('player_info (4096), player_level (4097), player_state (4098): private, primary key [0], every column u64', () => {
    const cols: Record<string, string[]> = {
      player_info: ['id', 'age', 'level'],
      player_level: ['id', 'level'],
      player_state: ['id', 'level'],
    };
    Object.entries(cols).forEach(([name, columns], i) => {
      const id = 4096 + i;
      expect(raw.indexOf(stTableRow(id, name, 'user', 'private', [0]))).toBeGreaterThan(0);
      columns.forEach((c, pos) => expect(raw.indexOf(stColumnRow(id, pos, c, Uint8Array.of(13)))).toBeGreaterThan(0));
      const t = table(r, name);
      expect(t).toMatchObject({ tableId: id, tableType: 'user', isView: false, rows: [], inserts: 0, deletes: 0 });
      expect(t.columns.map((c) => [c.name, c.type.tag])).toEqual(columns.map((c) => [c, 'U64']));
    });
  });

  it('every player_* table st_table declares is listed; views are marked', () => {
    const players = r.tables.filter((t) => t.name.startsWith('player'));
    expect(players.map((t) => t.name)).toEqual(
      expect.arrayContaining(['player_info', 'player_level', 'player_state']),
    );
    const views = r.tables.filter((t) => t.isView).map((t) => t.name);
    expect(views.length).toBeGreaterThan(0);
    expect(views).not.toContain('player_info');
    expect(table(r, 'st_view').rows.length).toBe(views.length);
  });

  it('the one transaction is the bootstrap: no reducer, system tables of 2.x (st_table_accessor...) written', () => {
    expect(r.transactions).toBe(1);
    expect(r.reducers).toEqual({});
    expect(table(r, 'st_table_accessor').rows.length).toBeGreaterThan(0);
  });

  it('st_module: the wasm program whose Keccak-256 is program_hash, owned by a c200… identity', () => {
    const m = table(r, 'st_module');
    expect(m.rows.length).toBe(1);
    const row = m.rows[0]!;
    const program = row.program_bytes as Uint8Array;
    expect(hex(program.subarray(0, 8))).toBe('0061736d01000000'); // "\0asm", version 1
    const hash = bytesOf((w) => w.writeU256(row.program_hash as bigint)); // Hash serializes as u256 of its LE bytes
    expect(hex(keccak256(program))).toBe(hex(hash));
    expect(String(rowToJson(row, m.columns).owner_identity).startsWith('c200')).toBe(true);
  });
});

// Keccak-256 (the pre-SHA-3 padding that SpacetimeDB's `hash_bytes` uses), for the st_module check.
const MASK = (1n << 64n) - 1n;
const RC = [
  0x1n, 0x8082n, 0x800000000000808an, 0x8000000080008000n, 0x808bn, 0x80000001n, 0x8000000080008081n,
  0x8000000000008009n, 0x8an, 0x88n, 0x80008009n, 0x8000000an, 0x8000808bn, 0x800000000000008bn,
  0x8000000000008089n, 0x8000000000008003n, 0x8000000000008002n, 0x8000000000000080n, 0x800an,
  0x800000008000000an, 0x8000000080008081n, 0x8000000000008080n, 0x80000001n, 0x8000000080008008n,
];
const ROT = [
  [0, 36, 3, 41, 18],
  [1, 44, 10, 45, 2],
  [62, 6, 43, 15, 61],
  [28, 55, 25, 21, 56],
  [27, 20, 39, 8, 14],
];
const rotl = (v: bigint, n: number): bigint => (n === 0 ? v : ((v << BigInt(n)) | (v >> BigInt(64 - n))) & MASK);

function keccakF(s: bigint[]): void {
  const c: bigint[] = new Array(5);
  const b: bigint[] = new Array(25);
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++) c[x] = s[x]! ^ s[x + 5]! ^ s[x + 10]! ^ s[x + 15]! ^ s[x + 20]!;
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5]! ^ rotl(c[(x + 1) % 5]!, 1);
      for (let y = 0; y < 25; y += 5) s[x + y] = s[x + y]! ^ d;
    }
    for (let x = 0; x < 5; x++) for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(s[x + 5 * y]!, ROT[x]![y]!);
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) s[x + 5 * y] = b[x + 5 * y]! ^ (~b[((x + 1) % 5) + 5 * y]! & MASK & b[((x + 2) % 5) + 5 * y]!);
    }
    s[0] = s[0]! ^ RC[round]!;
  }
}

function keccak256(msg: Uint8Array): Uint8Array {
  const rate = 136;
  const padded = new Uint8Array(Math.floor(msg.length / rate) * rate + rate);
  padded.set(msg);
  padded[msg.length]! ^= 0x01;
  padded[padded.length - 1]! ^= 0x80;
  const s: bigint[] = new Array(25).fill(0n);
  const dv = new DataView(padded.buffer);
  for (let off = 0; off < padded.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) s[i] = s[i]! ^ dv.getBigUint64(off + 8 * i, true);
    keccakF(s);
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) ov.setBigUint64(8 * i, s[i]!, true);
  return out;
}

describe('the Keccak-256 used above', () => {
  it('matches the published vectors for "" and "abc"', () => {
    expect(hex(keccak256(new Uint8Array(0)))).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    expect(hex(keccak256(Buffer.from('abc')))).toBe('4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
  });
});
