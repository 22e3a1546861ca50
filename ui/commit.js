// #commit/N: the commit holding transaction N, decoded: reducer, caller, timestamp, and per table the
// rows it inserted and deleted (the server sends at most a few hundred per table, with their count).
import { cellText, el, hashOf, linkColumn } from './db.js';

function link(href, text) {
  const a = el('a', text);
  a.href = href;
  return a;
}

/** Rows of one table: the union of their fields as columns (plain values in one "value" column). */
function rowsTable(ctx, rows) {
  const objects = rows.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r));
  if (!objects) return ctx.table(['value'], rows.map((r) => ({ value: cellText(r) })));
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const t = ctx.table(columns, rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] === undefined ? '' : cellText(r[c])]))));
  t.classList.add('rows');
  return t;
}

function opsSection(ctx, verb, op, offset) {
  const section = el('section', undefined, 'ops');
  const shown = op.rows.length < op.count ? `, first ${op.rows.length} shown` : '';
  const h = el('h4', `${verb} `);
  h.append(link(hashOf('rows', op.table, { at: offset }), op.table), ` (${op.count} row${op.count === 1 ? '' : 's'}${shown})`);
  section.append(h, rowsTable(ctx, op.rows));
  return section;
}

function transaction(ctx, tx) {
  const out = [el('h3', `Transaction ${tx.offset}`)];
  const fields = ['reducer', 'caller', 'connectionId', 'timestamp', 'output', 'argsHex'];
  out.push(ctx.table(['field', 'value'], fields.map((f) => ({ field: f, value: tx[f] ?? '' }))));
  out.at(-1).classList.add('fields');
  for (const op of tx.inserts) out.push(opsSection(ctx, 'inserted into', op, tx.offset));
  for (const op of tx.deletes) out.push(opsSection(ctx, 'deleted from', op, tx.offset));
  for (const t of tx.truncates) out.push(el('p', `truncated ${t.table}`, 'note'));
  if (tx.inserts.length + tx.deletes.length + tx.truncates.length === 0) out.push(el('p', 'no rows changed', 'note'));
  return out;
}

export async function commitView(ctx, arg) {
  if (!/^\d+$/.test(arg)) throw new Error(`not a transaction offset: ${arg}`);
  const d = await ctx.api(`/api/commit?offset=${arg}`);
  const view = [el('h2', `Commit holding transaction ${d.offset}`)];
  const c = d.commit;
  if (c) {
    const framing = ctx.table(['minTxOffset', 'epoch', 'n', 'len', 'checksum', 'segment', 'byteOffset'], [{ ...c, checksum: c.checksum.toString(16).padStart(8, '0') }]);
    const nav = el('p', undefined, 'pages');
    if (c.minTxOffset > 0) nav.append(link(`#commit/${c.minTxOffset - 1}`, 'previous commit'), ' ');
    nav.append(link(`#commit/${c.minTxOffset + c.n}`, 'next commit'), ' ', link(`#commits/${c.minTxOffset}`, 'in the commit list'));
    view.push(linkColumn(framing, 0, (o) => hashOf('database', null, { at: o })), nav);
  }
  if (d.error) view.push(ctx.errorLine(d.error));
  for (const tx of d.transactions) view.push(...transaction(ctx, tx));
  ctx.main.replaceChildren(...view);
}
