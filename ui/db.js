// The database views: #database (tables and row counts) and #rows/TABLE (a table's rows, paged and
// filtered by the server), both at the head or at a transaction (?at=N), and #commit/N (commit.js).
// The hash carries the view's parameters after '?', so every view is a link.
/** How often a view asks again while the server builds the state it shows. */
const STATE_POLL_MS = 500;
const PAGE_ROWS = 100;

export function parseHash(hash) {
  const h = hash.replace(/^#/, '');
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const [view, ...rest] = path.split('/');
  return { view, arg: decodeURIComponent(rest.join('/')), params: new URLSearchParams(q < 0 ? '' : h.slice(q + 1)) };
}

export function hashOf(view, arg, params = {}) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') p.set(k, String(v));
  const q = p.toString();
  return `#${view}${arg === null ? '' : `/${encodeURIComponent(arg)}`}${q ? `?${q}` : ''}`;
}

/** Turns the text of column `col` of every body row into a link to `hrefOf(text)`. */
export function linkColumn(tableEl, col, hrefOf) {
  for (const tr of tableEl.tBodies[0].rows) {
    const td = tr.cells[col];
    const a = document.createElement('a');
    a.href = hrefOf(td.textContent);
    a.textContent = td.textContent;
    td.replaceChildren(a);
  }
  return tableEl;
}

/** A decoded value as a cell shows it: text as is, anything else as JSON. */
export function cellText(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function link(href, text) {
  const a = el('a', text);
  a.href = href;
  return a;
}

/** GETs a state-backed API path; while the server builds the state, shows its progress and polls. */
async function stateApi(ctx, path, hash) {
  for (;;) {
    const body = await ctx.api(path);
    if (!body.building) return body;
    if (location.hash !== hash) return null;
    const p = body.progress;
    const pct = p.totalBytes > 0 ? ` (${Math.round((100 * p.bytesRead) / p.totalBytes)}% of the log read)` : '';
    ctx.main.replaceChildren(el('p', p.queued ? 'waiting for another state to be built…' : `building the state${pct}…`, 'building'));
    await new Promise((r) => setTimeout(r, STATE_POLL_MS));
    if (location.hash !== hash) return null;
  }
}

/** The "state at transaction N" control: empty means the head. */
function atForm(at, hashFor) {
  const form = el('form', undefined, 'at');
  const label = el('label', 'state at transaction ');
  const input = el('input');
  Object.assign(input, { name: 'at', type: 'number', min: '0', placeholder: 'head', value: at ?? '' });
  label.append(input);
  form.append(label, ' ', el('button', 'go'), ' ', link(hashFor(null), 'head'));
  form.onsubmit = (e) => {
    e.preventDefault();
    location.hash = hashFor(input.value === '' ? null : input.value);
  };
  return form;
}

/** Which state is shown, and what stopped the replay early. */
function stateNotes(ctx, s) {
  const out = [];
  const last = s.lastOffset < 0 ? 'no transaction' : `transaction ${s.lastOffset}`;
  const where = s.at === null ? `the head: state after ${last}` : `state after ${last}`;
  out.push(el('p', s.at !== null && s.lastOffset < s.at && s.damage === null ? `${where} (the log ends before ${s.at})` : where, 'state'));
  if (s.damage) out.push(ctx.errorLine(`damaged log: ${s.damage}. Shown: the state before the damage.`));
  if (s.skippedTail) out.push(el('p', `the last commit was left out (torn write): ${s.skippedTail}`, 'note'));
  return out;
}

async function databaseView(ctx, at, hash) {
  const q = at === null ? '' : `?at=${encodeURIComponent(at)}`;
  const s = await stateApi(ctx, `/api/database${q}`, hash);
  if (s === null) return;
  const tables = ctx.table(['tableId', 'name', 'type', 'rows', 'inserts', 'deletes'], s.tables);
  tables.classList.add('tables');
  linkColumn(tables, 1, (name) => hashOf('rows', name, { at: s.at }));
  ctx.main.replaceChildren(el('h2', 'Database'), atForm(s.at, (n) => hashOf('database', null, { at: n })), ...stateNotes(ctx, s), tables);
}

function filterForm(name, columns, params) {
  const form = el('form', undefined, 'filter');
  const input = el('input');
  Object.assign(input, { name: 'filter', type: 'search', placeholder: 'substring', value: params.get('filter') ?? '' });
  const select = el('select');
  select.name = 'column';
  select.append(new Option('any column', ''), ...columns.map((c) => new Option(c, c)));
  select.value = params.get('column') ?? '';
  const label = el('label', 'filter ');
  label.append(input);
  form.append(label, ' in ', select, ' ', el('button', 'filter'));
  form.onsubmit = (e) => {
    e.preventDefault();
    location.hash = hashOf('rows', name, { at: params.get('at'), filter: input.value, column: input.value ? select.value : '' });
  };
  return form;
}

async function rowsView(ctx, name, params, hash) {
  const q = new URLSearchParams({ table: name, limit: String(PAGE_ROWS) });
  for (const k of ['at', 'after', 'filter', 'column']) if (params.get(k)) q.set(k, params.get(k));
  const s = await stateApi(ctx, `/api/rows?${q}`, hash);
  if (s === null) return;
  const keep = { at: s.at, filter: params.get('filter'), column: params.get('column') };
  const rows = s.rows.map((r) => Object.fromEntries(s.columns.map((c) => [c, cellText(r[c])])));
  const list = ctx.table(s.columns, rows);
  list.classList.add('rows');
  const filtered = params.get('filter') ? ` (filtered: “${params.get('filter')}”)` : '';
  const nav = el('p', undefined, 'pages');
  if (params.get('after')) nav.append(link(hashOf('rows', name, keep), 'first page'), ' ');
  if (s.next !== null) nav.append(link(hashOf('rows', name, { ...keep, after: s.next }), 'next page'));
  ctx.main.replaceChildren(
    el('h2', `Table ${name}`),
    el('p', `${s.table.rows} row${s.table.rows === 1 ? '' : 's'}${filtered}; `, 'count'),
    atForm(s.at, (n) => hashOf('rows', name, { at: n, filter: keep.filter, column: keep.column })),
    ...stateNotes(ctx, s),
    filterForm(name, s.columns, params),
    list,
    nav,
  );
  ctx.main.querySelector('.count').append(link(hashOf('database', null, { at: s.at }), 'all tables'));
  if (s.rows.length === 0) ctx.main.append(el('p', filtered ? 'no rows match on this page' : 'no rows', 'note'));
}

/** Shows the view of `hash` if it is one of these; false for the views app.js shows itself. */
export async function dbRoute(hash, ctx) {
  const { view, arg, params } = parseHash(hash);
  const at = params.get('at');
  if (view === 'database') await databaseView(ctx, at === '' ? null : at, hash);
  else if (view === 'rows' && arg) await rowsView(ctx, arg, params, hash);
  else if (view === 'commit') await (await import('./commit.js')).commitView(ctx, arg);
  else return false;
  return true;
}
