/**
 * The database side of `clog ui`: `/api/database` (tables and row counts of a state), `/api/rows` (a
 * page of one table's rows) and `/api/commit` (one commit decoded). A state is the log replayed up to
 * `at` (or its head) by the bounded-memory SQLite export (ui-states.ts). Loaded on first use by
 * ui.ts: the replay layer would otherwise slow down every `clog` command's start-up.
 */
import type * as http from 'node:http';
import type { ExportedTable } from '../api/replay.js';
import { InvalidInputError, NotFoundError } from '../index.js';
import { sendJson } from './http.js';
import { CommitDecoder } from './ui-commit.js';
import { rowsPage } from './ui-rows.js';
import { BusyError, type DbState, StateCache } from './ui-states.js';
import { intParam } from './ui.js';

/** Rows per page at most. */
export const MAX_ROWS_PAGE = 500;
/** Longest filter and table or column name accepted (SpacetimeDB identifiers are far shorter). */
const MAX_TEXT_PARAM = 256;
/** How long a request waits for a state being built before answering 202 with its progress. */
const BUILD_WAIT_MS = 2000;
const RETRY_AFTER_S = 1;

const ALLOWED: Record<string, string[]> = {
  '/api/database': ['at'],
  '/api/rows': ['at', 'table', 'after', 'limit', 'filter', 'column'],
  '/api/commit': ['offset'],
};

function checkParams(pathname: string, params: URLSearchParams): void {
  const allowed = ALLOWED[pathname] ?? [];
  for (const key of params.keys()) {
    if (!allowed.includes(key)) throw new InvalidInputError(`unknown parameter ${key}`);
    if (params.getAll(key).length > 1) throw new InvalidInputError(`parameter ${key} given more than once`);
  }
}

function textParam(params: URLSearchParams, name: string): string | null {
  const v = params.get(name);
  if (v === null || v === '') return null;
  if (v.length > MAX_TEXT_PARAM) throw new InvalidInputError(`parameter ${name} is longer than ${MAX_TEXT_PARAM} characters`);
  return v;
}

function atParam(params: URLSearchParams): number | null {
  return params.get('at') === null || params.get('at') === '' ? null : intParam(params, 'at', 0);
}

function tablesOf(state: DbState): object[] {
  return (state.result?.tables ?? []).map((t) => ({
    tableId: t.tableId,
    name: t.name,
    type: t.isView ? 'view' : t.tableType,
    rows: t.rows,
    inserts: t.inserts,
    deletes: t.deletes - t.deletesAbsent,
  }));
}

function stateInfo(state: DbState): object {
  return {
    at: state.at,
    lastOffset: state.result?.lastOffset ?? -1,
    skippedTail: state.result?.skippedTail ?? null,
    damage: state.damage,
  };
}

export class DbRoutes {
  private readonly states: StateCache;
  private readonly commits: CommitDecoder;

  constructor(dir: string) {
    this.states = new StateCache(dir);
    this.commits = new CommitDecoder(dir);
  }

  async handle(url: URL, res: http.ServerResponse): Promise<void> {
    try {
      checkParams(url.pathname, url.searchParams);
      if (url.pathname === '/api/commit') return await this.commit(url.searchParams, res);
      const at = atParam(url.searchParams);
      const state = await this.states.get(at, BUILD_WAIT_MS);
      if (!('replay' in state)) {
        res.setHeader('retry-after', String(RETRY_AFTER_S));
        return sendJson(res, 202, { at, building: true, progress: state });
      }
      if (url.pathname === '/api/database') {
        return sendJson(res, 200, { ...stateInfo(state), tables: tablesOf(state), reducers: state.result?.reducers ?? {} });
      }
      return this.rows(state, url.searchParams, res);
    } catch (e) {
      if (res.headersSent) return void res.destroy();
      if (e instanceof InvalidInputError) return sendJson(res, 400, { error: e.message });
      if (e instanceof NotFoundError) return sendJson(res, 404, { error: e.message });
      if (e instanceof BusyError) {
        res.setHeader('retry-after', String(RETRY_AFTER_S));
        return sendJson(res, 503, { error: e.message });
      }
      return sendJson(res, 500, { error: (e as Error).message });
    }
  }

  close(): void {
    this.states.close();
  }

  private rows(state: DbState, params: URLSearchParams, res: http.ServerResponse): void {
    const name = textParam(params, 'table');
    if (name === null) throw new InvalidInputError('parameter table is required');
    const query = {
      after: intParam(params, 'after', 0),
      limit: Math.max(1, intParam(params, 'limit', 100, MAX_ROWS_PAGE)),
      filter: textParam(params, 'filter'),
      column: textParam(params, 'column'),
    };
    const tables = state.result?.tables ?? [];
    const table: ExportedTable | undefined = tables.find((t) => t.name === name);
    if (!table) {
      // On a damaged log the table may come after the damage: say so rather than "no such table".
      if (state.damage !== null) return sendJson(res, 200, { ...stateInfo(state), table: { name, rows: 0 }, columns: [], rows: [], next: null });
      throw new NotFoundError(`no table ${name} at ${state.at === null ? 'the head' : `transaction ${state.at}`}`);
    }
    const page = rowsPage(state.reader!, state.replay!, table, query);
    return sendJson(res, 200, { ...stateInfo(state), table: { name: table.name, tableId: table.tableId, rows: table.rows }, ...page });
  }

  private async commit(params: URLSearchParams, res: http.ServerResponse): Promise<void> {
    if (params.get('offset') === null) throw new InvalidInputError('parameter offset is required');
    const offset = intParam(params, 'offset', 0);
    if (this.commits.busy) throw new BusyError('too many commits being decoded; retry later');
    sendJson(res, 200, await this.commits.decode(offset));
  }
}
