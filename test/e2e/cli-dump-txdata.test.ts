/** `clog dump --txdata` (issue 6): each transaction's reducer and, per table, the rows it inserted and deleted. */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, clog, jsonLines } from './clog-run.js';

const V12 = path.join(FIXTURES, 'spacetimedb-v1.2', 'clog');
const V26 = path.join(FIXTURES, 'spacetimedb-v2.6', 'clog');

interface Tx {
  offset: number;
  reducer: string | null;
  inserts: { tableId: number; table: string; rows: Record<string, unknown>[] }[];
  deletes: { tableId: number; table: string; rows: Record<string, unknown>[] }[];
}

describe('clog dump --txdata', () => {
  it('prints every transaction of the v1.2 chat log, decoded', async () => {
    const r = await clog('dump', V12, '--txdata');
    expect(r.code).toBe(0);
    const txs = jsonLines(r.stdout) as Tx[];
    expect(txs.map((t) => t.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // §10.5: tx 1 is identity_connected inserting into st_client (7) and the user table (4098)
    expect(txs[1]!.reducer).toBe('identity_connected');
    expect(txs[1]!.inserts.map((o) => [o.tableId, o.table])).toEqual([
      [7, 'st_client'],
      [4098, 'user'],
    ]);
    expect(txs[1]!.inserts[1]!.rows[0]).toMatchObject({ name: null, online: true });
    const sends = txs.filter((t) => t.reducer === 'send_message');
    expect(sends.length).toBe(2);
    for (const t of sends) expect(t.inserts[0]!.table).toBe('message');
    expect(sends[0]!.inserts[0]!.rows[0]!.text).toBe('omg');
  });

  it('honours --from and --to and decodes the v2.6 bootstrap', async () => {
    const r = await clog('dump', V12, '--txdata', '--from', '3', '--to', '4');
    expect((jsonLines(r.stdout) as Tx[]).map((t) => t.offset)).toEqual([3, 4]);
    const b = await clog('dump', V26, '--txdata');
    const [tx] = jsonLines(b.stdout) as Tx[];
    const names = tx!.inserts.find((o) => o.table === 'st_table')!.rows.map((row) => row.table_name);
    expect(names).toEqual(expect.arrayContaining(['player_info', 'player_level', 'player_state']));
  });
});
