// The live parts of the page: one EventSource on /api/live for the whole tab (new commits, appended
// to the commit list and the tail view, and a refresh of the overview), the verify button (progress
// over /api/verify), and the overview's chart. Plain ES module, like app.js.
import { barChart } from './chart.js';

const token = new URLSearchParams(location.search).get('token');
/** Rows the tail view keeps; older ones scroll off the top. */
const TAIL_ROWS = 50;
/** The overview is fetched again at most this often while the log grows, ms. */
const OVERVIEW_REFRESH_MS = 1000;

async function getJson(path) {
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error);
  return body;
}

// --- the live stream -------------------------------------------------------------------------

const watchers = new Set(); // { anchor, handler }: called while `anchor` is in the page
let source = null;
let liveNext = null;
const status = document.createElement('span');
status.id = 'live-status';
status.className = 'live-status';

function dispatch(event, data) {
  for (const w of [...watchers]) {
    if (!w.anchor.isConnected) watchers.delete(w);
    else w.handler(event, data);
  }
}

function connect() {
  if (source !== null) return;
  document.querySelector('nav')?.append(status);
  status.textContent = 'live: connecting';
  // The token cookie set by `/?token=` travels with the stream (EventSource cannot set headers).
  source = new EventSource('/api/live');
  source.addEventListener('hello', (e) => {
    liveNext = JSON.parse(e.data).next;
    status.textContent = `live: next offset ${liveNext}`;
    status.dataset.next = String(liveNext);
    dispatch('hello', JSON.parse(e.data));
  });
  source.addEventListener('commits', (e) => {
    const batch = JSON.parse(e.data);
    liveNext = batch.next;
    status.textContent = `live: next offset ${liveNext}`;
    status.dataset.next = String(liveNext);
    dispatch('commits', batch);
  });
  source.addEventListener('problem', (e) => {
    status.textContent = `live: ${JSON.parse(e.data).message}`;
  });
  // EventSource reconnects by itself (after the server's `retry`); say so meanwhile.
  source.addEventListener('error', () => { status.textContent = 'live: reconnecting'; });
}

// Connected from the start: the nav shows the head of the log on every view.
connect();

/** Calls `handler(event, data)` for live events while `anchor` is in the page. */
export function watchLive(anchor, handler) {
  connect();
  watchers.add({ anchor, handler });
}

// --- the commit list and the tail view ---------------------------------------------------------

/**
 * Keeps a page of the commit list that is not full growing: commits from `expected` on are appended
 * to `tbody` (as `rowsOf(commits)` renders them) until it holds `capacity` rows; `onNext(offset)` is
 * told the offset after the last row each time. A gap (a batch larger than the stream carries, or
 * commits written before the stream connected) is fetched by page.
 */
export function followPage(tbody, expected, capacity, rowsOf, onNext) {
  let next = expected;
  let busy = false;
  const take = (commits) => {
    for (const c of commits) {
      if (tbody.rows.length >= capacity) break;
      if (c.minTxOffset + c.n <= next) continue; // shown already
      tbody.append(...rowsOf([c]));
      next = c.minTxOffset + c.n;
    }
    onNext(next);
  };
  const full = () => tbody.rows.length >= capacity;
  // One fetch at a time; events meanwhile are covered by fetching again while the stream is ahead.
  const fill = async () => {
    if (busy || full()) return;
    busy = true;
    try {
      while (tbody.isConnected && !full() && liveNext !== null && liveNext > next) {
        const before = next;
        const page = await getJson(`/api/commits?from=${next}&limit=${capacity - tbody.rows.length}`);
        if (!tbody.isConnected) return;
        take(page.commits);
        if (next === before) break; // nothing readable there (yet): wait for the next event
      }
    } finally {
      busy = false;
    }
  };
  watchLive(tbody, (event, data) => {
    if (full()) return;
    const first = data.commits?.[0];
    if (event === 'commits' && !data.truncated && first && first.minTxOffset <= next && !busy) take(data.commits);
    else if ((data.next ?? 0) > next) void fill();
  });
  if (liveNext !== null && liveNext > next) void fill(); // grew while the page was fetched
}

/** The last commits of the log, rolling: new ones are appended, the oldest leave the top. */
export async function tailView(main, columnsTable, rowsOf) {
  const tail = await getJson(`/api/tail?limit=${TAIL_ROWS}`);
  const t = columnsTable(tail.commits);
  t.id = 'tail';
  const caption = document.createElement('p');
  caption.textContent = 'The newest commits; new ones appear as the log grows.';
  main.replaceChildren(caption, t);
  if (tail.error) {
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = tail.error;
    main.append(p);
  }
  const tbody = t.tBodies[0];
  let next = tail.next;
  const take = (commits) => {
    for (const c of commits) {
      if (c.minTxOffset + c.n <= next) continue;
      tbody.append(...rowsOf([c]));
      next = c.minTxOffset + c.n;
    }
    while (tbody.rows.length > TAIL_ROWS) tbody.deleteRow(0);
  };
  let busy = false;
  // Too far behind (a gap, or a batch larger than an event carries): start from the end again, one
  // fetch at a time, and again while the stream is ahead of what was fetched.
  const refetch = async () => {
    if (busy) return;
    busy = true;
    try {
      while (tbody.isConnected && liveNext !== null && liveNext > next) {
        const before = next;
        const again = await getJson(`/api/tail?limit=${TAIL_ROWS}`);
        if (!tbody.isConnected) return;
        tbody.replaceChildren(...rowsOf(again.commits));
        next = again.next;
        if (next === before) break;
      }
    } finally {
      busy = false;
    }
  };
  watchLive(tbody, (event, data) => {
    if ((data.next ?? 0) <= next) return;
    const first = data.commits?.[0];
    if (event === 'commits' && !data.truncated && first && first.minTxOffset <= next && !busy) take(data.commits);
    else void refetch();
  });
  if (liveNext !== null && liveNext > next) void refetch();
}

// --- the overview: chart, verify, refresh -----------------------------------------------------

let chartMetric = 'commits';

function chartSection(info) {
  const section = document.createElement('section');
  section.id = 'chart';
  const h = document.createElement('h2');
  h.textContent = 'Per segment';
  const select = document.createElement('select');
  select.name = 'metric';
  for (const [value, text] of [['commits', 'commits'], ['bytes', 'bytes']]) {
    const o = select.appendChild(document.createElement('option'));
    o.value = value;
    o.textContent = text;
  }
  select.value = chartMetric;
  const label = document.createElement('label');
  label.append('show ', select);
  const draw = () => {
    const bars = info.segments.map((s) => ({ label: `segment ${s.segment}`, value: chartMetric === 'bytes' ? s.bytes : s.commits }));
    section.querySelector('svg')?.remove();
    section.append(barChart(bars, `${chartMetric} per segment`));
  };
  select.onchange = () => { chartMetric = select.value; draw(); };
  section.append(h, label);
  draw();
  return section;
}

// One verify section for the tab: it keeps its progress or result while the overview is redrawn.
const verifyBox = document.createElement('section');
verifyBox.id = 'verify';
let verifySource = null;

function verifySectionInit() {
  if (verifyBox.childElementCount > 0) return;
  const h = document.createElement('h2');
  h.textContent = 'Verify';
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'verify the log';
  const progress = document.createElement('progress');
  progress.hidden = true;
  const out = document.createElement('div');
  out.className = 'verify-result';
  button.onclick = () => runVerify(button, progress, out);
  verifyBox.append(h, button, ' ', progress, out);
}

function line(text, className) {
  const p = document.createElement('p');
  if (className) p.className = className;
  p.textContent = text;
  return p;
}

function runVerify(button, progress, out) {
  if (verifySource !== null) return;
  button.disabled = true;
  progress.hidden = false;
  progress.removeAttribute('value');
  out.replaceChildren(line('verifying…', 'verify-progress'));
  const es = new EventSource('/api/verify');
  verifySource = es;
  const done = () => {
    es.close(); // never reconnect: that would start another run
    verifySource = null;
    button.disabled = false;
    progress.hidden = true;
  };
  es.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data);
    progress.max = Math.max(1, p.bytes);
    progress.value = p.bytesDone;
    out.replaceChildren(line(`segment ${p.segment} (${p.segmentsDone + 1} of ${p.segments}), ${p.bytesDone} of ${p.bytes} bytes`, 'verify-progress'));
  });
  es.addEventListener('result', (e) => {
    done();
    const r = JSON.parse(e.data);
    if (r.ok) {
      out.replaceChildren(line(`ok: ${r.commits} commits in ${r.segments} segments`, 'verify-ok'));
      return;
    }
    out.replaceChildren(line(`damaged: ${r.problems.length} problem(s), ${r.commits} good commits`, 'error'));
    for (const p of r.problems) {
      out.append(line(`${p.kind}: segment ${p.segment ?? '-'}, byte ${p.byteOffset ?? '-'}, offset ${p.offset ?? '-'}: ${p.message}`, 'error verify-problem'));
    }
  });
  es.addEventListener('failed', (e) => {
    done();
    out.replaceChildren(line(`verify failed: ${JSON.parse(e.data).error}`, 'error'));
  });
  es.addEventListener('error', () => {
    if (verifySource !== es) return;
    done();
    out.replaceChildren(line('verify stream lost (too many streams, or the server went away)', 'error'));
  });
}

/**
 * The overview's live parts: the chart and the verify section, to append after the tables, and a
 * redraw (`rerender()`) at most once a second while the log grows.
 */
export function overviewExtras(info, rerender) {
  verifySectionInit();
  const chart = chartSection(info);
  let last = 0;
  let timer = null;
  watchLive(chart, (event) => {
    if (event !== 'commits' || timer !== null) return;
    const wait = Math.max(0, last + OVERVIEW_REFRESH_MS - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      if (chart.isConnected) void rerender();
    }, wait);
  });
  return [chart, verifyBox];
}
