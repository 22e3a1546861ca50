/**
 * A dependency-free SVG line chart of the durable benchmark: records/s by number of concurrent
 * producers, both axes logarithmic, one line per store (a dot for stores measured with one producer
 * only). Stores that do not fsync are drawn dashed.
 */

export interface ChartSeries {
  store: string;
  /** Whether the store really fsyncs. */
  durable: boolean;
  /** Records/s by producers. */
  points: Record<number, number>;
}

const PRODUCERS = [1, 10, 100, 1000];
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22', '#393b79', '#637939'];
const W = 940;
const H = 440;
const M = { left: 64, right: 400, top: 40, bottom: 48 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function si(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}

export function durableChartSvg(series: readonly ChartSeries[], title: string): string {
  const values = series.flatMap((s) => Object.values(s.points)).filter((v) => v > 0);
  if (values.length === 0) return '';
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (p: number): number => M.left + (Math.log10(p) / Math.log10(PRODUCERS[PRODUCERS.length - 1]!)) * plotW;
  const y = (v: number): number => M.top + plotH - ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let e = lo; e <= hi; e++) {
    const yy = y(10 ** e).toFixed(1);
    out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${si(10 ** e)}</text>`);
  }
  for (const p of PRODUCERS) {
    const xx = x(p).toFixed(1);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${M.top}" y2="${M.top + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${xx}" y="${M.top + plotH + 16}" text-anchor="middle">${p}</text>`);
  }
  out.push(`<text x="${M.left + plotW / 2}" y="${H - 10}" text-anchor="middle">concurrent producers (each: append one record, wait until durable)</text>`);
  out.push(`<text transform="translate(16 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">durable records/s</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = PRODUCERS.filter((p) => (s.points[p] ?? 0) > 0).map((p) => [x(p), y(s.points[p]!)] as const);
    if (pts.length === 0) return;
    const dash = s.durable ? '' : ' stroke-dasharray="5 4"';
    if (pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>`);
    }
    for (const [a, b] of pts) out.push(`<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="3.5" fill="${color}"/>`);
    const ly = M.top + 8 + i * 18;
    const lx = M.left + plotW + 16;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 28}" y="${ly}" dominant-baseline="middle">${esc(s.store + (s.durable ? '' : ' (no fsync)'))}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
