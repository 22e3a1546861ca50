// A small SVG bar chart built with DOM calls (no innerHTML, no inline styles: the page's CSP is
// default-src 'self'). One bar per value; bars narrow to 1 px for many values, but every value keeps its bar.
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 120;
const AXIS = 16; // room for the labels under the bars

function el(name, attrs) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/**
 * bars: [{ label, value }] (value ≥ 0); title: what the values are. Each bar has a <title> tooltip
 * `label: value`; the largest value is written at the top left.
 */
export function barChart(bars, title) {
  const svg = el('svg', { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT + AXIS}`, width: WIDTH, height: HEIGHT + AXIS, role: 'img' });
  svg.appendChild(el('title', {})).textContent = title;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const step = WIDTH / Math.max(1, bars.length);
  const gap = step > 4 ? 1 : 0;
  bars.forEach((b, i) => {
    const h = b.value > 0 ? Math.max(1, (b.value / max) * (HEIGHT - 12)) : 0;
    const rect = el('rect', { class: 'bar', x: i * step, y: HEIGHT - h, width: Math.max(1, step - gap), height: h });
    rect.appendChild(el('title', {})).textContent = `${b.label}: ${b.value}`;
    svg.appendChild(rect);
  });
  svg.appendChild(el('line', { class: 'axis', x1: 0, y1: HEIGHT, x2: WIDTH, y2: HEIGHT }));
  svg.appendChild(el('text', { class: 'chart-label', x: 2, y: 10 })).textContent = `max ${max}`;
  if (bars.length > 0) {
    svg.appendChild(el('text', { class: 'chart-label', x: 2, y: HEIGHT + 12 })).textContent = bars[0].label;
    const end = el('text', { class: 'chart-label', x: WIDTH - 2, y: HEIGHT + 12, 'text-anchor': 'end' });
    end.textContent = bars.at(-1).label;
    svg.appendChild(end);
  }
  return svg;
}
