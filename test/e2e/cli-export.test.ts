/**
 * `clog export` and `clog changes` as a user runs them (issue 15), on the real logs: the SQLite file is
 * read by Python's sqlite3, a re-run applies nothing new, a reset log is refused, piped runs print no
 * progress bar, the change stream's lines and filters.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../unit/maintenance/log-fixtures.js';
import { FIXTURES, clog } from './clog-run.js';

const V12 = path.join(FIXTURES, 'spacetimedb-v1.2/clog');
const tmp = tempDirs();

const py = (file: string, sql: string): unknown =>
  JSON.parse(execFileSync('python3', ['-c', 'import sqlite3,sys,json; print(json.dumps(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()))', file, sql], { encoding: 'utf8' }));

describe('clog export', () => {
  it('exports, re-runs incrementally, prints no progress when piped, --json summary', async () => {
    const file = path.join(tmp(), 'chat.sqlite');
    const first = await clog('export', V12, '--sqlite', file);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe(''); // no progress bar: stderr is not a terminal
    expect(first.stdout).toMatch(/^exported 9 transactions into .*chat\.sqlite; up to tx offset 8; 9 tables\n$/);
    expect(py(file, 'select text from message order by rowid')).toEqual([['omg'], ['clay aiken!\n']]);
    const again = await clog('export', V12, '--sqlite', file, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ transactions: 0, lastOffset: 8, resumedFrom: 8 });
  });

  it('--at stops early; a file from another log or a reset log is refused with exit 2', async () => {
    const dir = tmp();
    fs.cpSync(V12, path.join(dir, 'clog'), { recursive: true });
    const log = path.join(dir, 'clog');
    const file = path.join(tmp(), 'db.sqlite');
    const at = await clog('export', log, '--sqlite', file, '--at', '4', '--json');
    expect(JSON.parse(at.stdout)).toMatchObject({ lastOffset: 4 });
    expect(py(file, 'select count(*) from message')).toEqual([[2]]);
    const reset = await clog('reset-to', log, '2', '--yes');
    expect(reset.code).toBe(0);
    const refused = await clog('export', log, '--sqlite', file);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^clog: .*was exported up to tx 4.*\[EXPORT_MISMATCH\]\n$/);
    expect(py(file, "select value from _stdb_meta where key = 'tx_offset'")).toEqual([['4']]);
  });

  it('a missing log directory or a missing --sqlite is an error', async () => {
    const missing = await clog('export', path.join(tmp(), 'nope'), '--sqlite', path.join(tmp(), 'x.sqlite'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such log directory.*\[NOT_FOUND\]/);
    const noFile = await clog('export', V12);
    expect(noFile.code).toBe(2);
  });
});

describe('clog changes', () => {
  it('JSON lines in log order, --table, --from/--to, debezium', async () => {
    const all = await clog('changes', V12);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.txOffset)).toEqual([...lines.map((l) => l.txOffset as number)].sort((a, b) => a - b));
    const msgs = await clog('changes', V12, '--table', 'message');
    expect(msgs.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { row: { text: string } }).row.text)).toEqual(['omg', 'clay aiken!\n']);
    const window = await clog('changes', V12, '--from', '3', '--to', '3');
    const w = window.stdout.trim().split('\n').map((l) => JSON.parse(l) as { txOffset: number; reducer: string });
    expect(w.length).toBeGreaterThan(0);
    expect(new Set(w.map((x) => x.txOffset))).toEqual(new Set([3]));
    expect(w[0]!.reducer).toBe('send_message');
    const dbz = await clog('changes', V12, '--table', 'message', '--format', 'debezium');
    expect(JSON.parse(dbz.stdout.split('\n')[0]!)).toMatchObject({ before: null, op: 'c', after: { text: 'omg' }, source: { table: 'message', txOffset: 3 } });
    const bad = await clog('changes', V12, '--format', 'avro');
    expect(bad.code).toBe(2);
    const backwards = await clog('changes', V12, '--from', '5', '--to', '2');
    expect(backwards.code).toBe(2);
  });
});
