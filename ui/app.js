// Plain ES module, no framework: the page is a few tables; nothing to build or fetch from outside.
import { dbRoute, linkColumn } from './db.js';
import { followPage, overviewExtras, tailView } from './live.js';

const token = new URLSearchParams(location.search).get('token');
const main = document.getElementById('main');

async function api(path) {
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error);
  return body;
}

function table(columns, rows) {
  const t = document.createElement('table');
  const head = t.createTHead().insertRow();
  for (const c of columns) head.appendChild(document.createElement('th')).textContent = c;
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const c of columns) tr.insertCell().textContent = r[c] === null || r[c] === undefined ? '' : String(r[c]);
  }
  return t;
}

function errorLine(text) {
  const p = document.createElement('p');
  p.className = 'error';
  p.textContent = text;
  return p;
}

async function overview() {
  const info = await api('/api/overview');
  main.replaceChildren();
  main.append(table(['segments', 'compressedSegments', 'bytes', 'commits', 'minTxOffset', 'maxTxOffset', 'maxEpoch'], [info.totals]));
  const rows = info.segments.map((s) => ({ ...s, index: s.index ? `${Math.round(s.index.coverage * 100)}%` : 'none' }));
  main.append(table(['segment', 'file', 'bytes', 'size', 'compressed', 'version', 'commits', 'minTxOffset', 'maxTxOffset', 'minEpoch', 'maxEpoch', 'index', 'error'], rows));
  for (const s of info.segments) if (s.error) main.append(errorLine(`segment ${s.segment}: ${s.error}`));
  main.append(...overviewExtras(info, overview));
}

const COMMIT_COLUMNS = ['minTxOffset', 'epoch', 'n', 'len', 'checksum', 'segment', 'byteOffset'];
// Each offset links to the commit's detail, in pages and in rows the live tail adds alike.
const commitsTable = (commits) => linkColumn(table(COMMIT_COLUMNS, commits.map((c) => ({ ...c, checksum: c.checksum.toString(16).padStart(8, '0') }))), 0, (o) => `#commit/${o}`);
const commitRows = (commits) => [...commitsTable(commits).tBodies[0].rows];

async function commits(from) {
  const page = await api(`/api/commits?from=${from}&limit=50`);
  main.replaceChildren();
  const form = document.createElement('form');
  form.innerHTML = '<label>jump to offset <input name="from" type="number" min="0"></label> <button>go</button>';
  form.onsubmit = (e) => { e.preventDefault(); location.hash = `commits/${form.from.value || 0}`; };
  main.append(form);
  const t = commitsTable(page.commits);
  main.append(t);
  if (page.error) main.append(errorLine(page.error));
  const last = page.commits.at(-1);
  const next = document.createElement('a');
  next.textContent = 'next page';
  const setNext = (offset) => { next.href = `#commits/${offset}`; if (!next.isConnected) main.append(next); };
  if (last) setNext(last.minTxOffset + last.n);
  // A page that is not full is the tail of the log: it grows as commits are appended.
  if (!page.error && page.commits.length < page.limit) followPage(t.tBodies[0], last ? last.minTxOffset + last.n : from, page.limit, commitRows, setNext);
}

async function route() {
  const [view, arg] = location.hash.slice(1).split('/');
  try {
    if (view === 'commits') await commits(Number(arg) || 0);
    else if (view === 'tail') await tailView(main, commitsTable, commitRows);
    else if (await dbRoute(location.hash, { main, api, table, errorLine })) return;
    else await overview();
  } catch (e) {
    main.replaceChildren(errorLine(e.message));
  }
}

window.addEventListener('hashchange', route);
route();
