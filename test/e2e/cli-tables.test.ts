/**
 * `clog tables` and `clog rows` as a user runs them (issue 6), on the two real SpacetimeDB logs.
 * Needs the build (`npm test` builds first; or `npx tsc -p tsconfig.json`): dist/src/cli/main.js.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { GenericLog, FsRepo } from '../../src/index.js';
import { txdataEncoder } from '../../src/api/replay.js';
import { encodeCommit } from '../../src/api/codec.js';
import { commits, segmentFileName } from '../../src/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(HERE, '../../dist/src/cli/main.js');
const V12 = path.resolve(HERE, '../fixtures/spacetimedb-v1.2/clog');
const V26 = path.resolve(HERE, '../fixtures/spacetimedb-v2.6/clog');

function clog(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const jsonLines = (s: string): Record<string, unknown>[] =>
  s
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('clog tables', () => {
  it('is built', () => {
    expect(fs.existsSync(MAIN)).toBe(true);
  });

  it('--json on the 1.2 log: transactions, tables with counts, reducers', () => {
    const r = clog('tables', V12, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      transactions: number;
      tables: { tableId: number; name: string; rows: number; inserts: number; deletes: number; deletesAbsent: number }[];
      reducers: Record<string, number>;
    };
    expect(out.transactions).toBe(9);
    expect(out.reducers).toEqual({ identity_connected: 3, send_message: 2, identity_disconnected: 3 });
    expect(Object.keys(out.tables[0]!)).toEqual(['tableId', 'name', 'rows', 'inserts', 'deletes', 'deletesAbsent']);
    expect(out.tables.find((t) => t.name === 'message')).toEqual({ tableId: 4097, name: 'message', rows: 2, inserts: 2, deletes: 0, deletesAbsent: 0 });
    expect(out.tables.find((t) => t.name === 'user')).toEqual({ tableId: 4098, name: 'user', rows: 1, inserts: 2, deletes: 1, deletesAbsent: 0 });
    expect(out.tables.find((t) => t.name === 'st_client')).toEqual({ tableId: 7, name: 'st_client', rows: 0, inserts: 3, deletes: 3, deletesAbsent: 0 });
    // st_sequence: 3 bootstrap rows rewritten, deleted before the log ever inserted them (issue 17)
    expect(out.tables.find((t) => t.name === 'st_sequence')).toEqual({ tableId: 3, name: 'st_sequence', rows: 3, inserts: 3, deletes: 3, deletesAbsent: 3 });
  });

  it('--at 2 stops after tx offset 2 (before any message)', () => {
    const out = JSON.parse(clog('tables', V12, '--at', '2', '--json').stdout);
    expect(out.transactions).toBe(3);
    expect(out.tables.find((t: { name: string }) => t.name === 'message').rows).toBe(0);
    expect(out.reducers).toEqual({ identity_connected: 2 });
  });

  it('the 2.6 log: the player_* tables, empty', () => {
    const out = JSON.parse(clog('tables', V26, '--json').stdout);
    expect(out.transactions).toBe(1);
    for (const [tableId, name] of [
      [4096, 'player_info'],
      [4097, 'player_level'],
      [4098, 'player_state'],
    ]) {
      expect(out.tables).toContainEqual({ tableId, name, rows: 0, inserts: 0, deletes: 0, deletesAbsent: 0 });
    }
  });

  it('text output lists id, name and counts', () => {
    const r = clog('tables', V12);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ *4097 +message +user +2 +2 +0 +0$/m);
    // st_sequence's deletes of rows the log never inserted are shown apart, with a note
    expect(r.stdout).toMatch(/^ *ID +NAME +TYPE +ROWS +INSERTS +DELETES +UNMATCHED$/m);
    expect(r.stdout).toMatch(/^ *3 +st_sequence +system +3 +3 +0 +3$/m);
    expect(r.stdout).toMatch(/UNMATCHED: deletes of rows this log never inserted/);
    expect(r.stdout).toMatch(/9 transactions/);
  });

  it('usage and replay errors exit 2 with one line', () => {
    expect(clog('tables', V12, '--at', 'x').code).toBe(2);
    const missing = clog('tables', path.join(os.tmpdir(), 'no-such-clog-dir-for-tables'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^clog: /);
  });

  it('a log whose rows name an undeclared table fails naming the offset', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
    tmpDirs.push(dir);
    const log = GenericLog.open(new FsRepo(dir), {}, txdataEncoder<Uint8Array>((row, out) => out.write(row)));
    log.append({ mutations: { inserts: [{ tableId: 5000, rowdata: [Uint8Array.of(1)] }], deletes: [], truncates: [] } });
    log.commit();
    log.close();
    const r = clog('tables', dir);
    expect(r.code).toBe(1); // a data problem, not a usage error
    expect(r.stderr).toMatch(/tx offset 0.*table 5000/);
    expect(r.stdout).toBe('');
  });
});

describe('clog rows', () => {
  it('message rows as JSON lines: sender hex, ISO timestamp, text', () => {
    const r = clog('rows', V12, 'message');
    expect(r.code).toBe(0);
    const rows = jsonLines(r.stdout);
    expect(rows.map((x) => x.text)).toEqual(['omg', 'clay aiken!\n']);
    for (const x of rows) {
      expect(x.sender).toMatch(/^c200[0-9a-f]{60}$/);
      expect(x.sent).toMatch(/^2025-08-18T15:5\d:\d\d\.\d{6}Z$/);
    }
  });

  it('--at, --limit and a table id', () => {
    expect(jsonLines(clog('rows', V12, 'user', '--at', '1', '--json').stdout)).toEqual([
      expect.objectContaining({ name: null, online: true }),
    ]);
    expect(jsonLines(clog('rows', V12, 'user').stdout)).toEqual([expect.objectContaining({ online: false })]);
    expect(jsonLines(clog('rows', V12, '4097', '--limit', '1').stdout).map((x) => x.text)).toEqual(['omg']);
    expect(clog('rows', V12, 'message', '--limit', '0').stdout).toBe('');
  });

  it('bigints print: st_sequence i128 columns are decimal strings', () => {
    const rows = jsonLines(clog('rows', V12, 'st_sequence').stdout);
    expect(rows.length).toBe(3);
    expect(rows[0]!.max_value).toBe(String(2n ** 127n - 1n));
  });

  it('an empty table prints nothing; an unknown one exits 2 listing the tables', () => {
    const empty = clog('rows', V26, 'player_info');
    expect([empty.code, empty.stdout]).toEqual([0, '']);
    const r = clog('rows', V12, 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no table 'nope'.*message/);
  });
});

/**
 * Issue 16 §2: the real v1.2 log split into segments [0..2], [3..5], [6..8] with the first commit of
 * the oldest segment damaged. 1.3.0's traversal would silently start at offset 3.
 */
describe('a damaged first commit of the oldest segment', () => {
  function damagedSplit(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
    tmpDirs.push(dir);
    const header = fs.readFileSync(path.join(V12, segmentFileName(0))).subarray(0, 10);
    const cs = [...commits(V12)];
    expect(cs.map((c) => c.minTxOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const group of [[0, 1, 2], [3, 4, 5], [6, 7, 8]]) {
      const bytes = Buffer.concat([header, ...group.map((k) => encodeCommit(cs[k]!).bytes)]);
      if (group[0] === 0) bytes[10 + 30]! ^= 0xff; // inside commit 0's records
      fs.writeFileSync(path.join(dir, segmentFileName(group[0]!)), bytes);
    }
    return dir;
  }

  it('dump, tables and rows exit 1 and name the damaged commit first', () => {
    const dir = damagedSplit();
    for (const args of [['dump', dir], ['tables', dir], ['rows', dir, 'message'], ['dump', dir, '--txdata']]) {
      const r = clog(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^clog: checksum mismatch at offset=0 in segment 0; after it: out-of-order commit: expected-offset=0 actual-offset=3/);
      expect(r.stdout.includes('"offset":3')).toBe(false);
    }
  });

  it('the same split without damage replays exactly as the original', () => {
    const dir = damagedSplit();
    const f = path.join(dir, segmentFileName(0));
    const b = fs.readFileSync(f);
    b[10 + 30]! ^= 0xff; // undo
    fs.writeFileSync(f, b);
    expect(clog('tables', dir, '--json').stdout).toBe(clog('tables', V12, '--json').stdout);
  });
});
