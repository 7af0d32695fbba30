// Pictures of a released table, drawn as SVG elements (no inline style:
// colours are classes in app.css or SVG presentation attributes, both
// allowed by the server's Content-Security-Policy).
//
// - eulerDiagram: an area-proportional Euler diagram of the combinations.
//   The layout (circle sizes and positions, region outlines and label
//   points) comes from @upsetjs/venn.js (vendor/venn.esm.js, copied from
//   node_modules by deploy/setup); only its layout functions are used, not
//   its d3 renderer, so nothing injects <style> or style="" that the CSP
//   would block.
// - barChart: counts per age band (and sex) for one combination.
import { h } from './dom.js';
import { t, formatNumber } from './i18n.js';
import { bandText, sexName } from './labels.js';

const SVG = (tag, attrs, ...kids) => h(`svg:${tag}`, attrs, ...kids);
const PALETTE = 6;  // .set-0 .. .set-5 in app.css

let vennModule = null;
async function loadVenn() {
  if (!vennModule) vennModule = await import('../vendor/venn.esm.js');
  return vennModule;
}

const comboKey = (c) => c.join('\u0000');

// Exclusive regions: "exactly these sets". Returns
// [{combination, count, suppressed}] in the table's order.
export function regionsOf(result) {
  if (result.combination_totals && result.combination_totals.length) return result.combination_totals;
  // A single breakdown cell: the cells are the regions.
  return result.cells.map((c) => ({ combination: c.combination, count: c.count, suppressed: c.suppressed }));
}

export async function eulerDiagram(result, { titleId, descId }) {
  const regions = regionsOf(result);
  const labels = result.labels;
  const placeholder = Math.max(1, (result.min_cell - 1) / 2);
  const known = regions.filter((r) => !r.suppressed).reduce((s, r) => s + r.count, 0);
  if (known === 0 && regions.every((r) => !r.suppressed)) {
    return h('p', { class: 'hint', text: t('chart.euler_empty') });
  }
  // Every set must have some area or the layout has nothing to place.
  const setSize = (label) => regions.filter((r) => r.combination.includes(label))
    .reduce((s, r) => s + (r.suppressed ? placeholder : r.count), 0);
  const drawn = labels.filter((l) => setSize(l) > 0);
  if (drawn.length === 0) return h('p', { class: 'hint', text: t('chart.euler_empty') });

  let venn;
  try {
    venn = await loadVenn();
  } catch {
    return h('p', { class: 'alert warning', text: t('chart.euler_missing') });
  }
  const data = regions
    .filter((r) => r.combination.every((c) => drawn.includes(c)))
    .map((r) => ({ sets: r.combination, size: r.suppressed ? placeholder : r.count, region: r }));
  const width = 560;
  const height = 360;
  let areas;
  try {
    areas = venn.layout(data, { width, height, padding: 28, distinct: true, round: 2 });
  } catch {
    return h('p', { class: 'alert warning', text: t('chart.euler_failed') });
  }
  const svg = SVG('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart euler', role: 'img',
    'aria-labelledby': titleId, 'aria-describedby': descId, focusable: 'false',
  });
  // Circles (one per set), then every region's count at its label point.
  const circles = new Map();
  for (const a of areas) {
    if (a.data.sets.length === 1) circles.set(a.data.sets[0], a.circles[0]);
  }
  labels.forEach((label, i) => {
    const c = circles.get(label);
    if (!c || !Number.isFinite(c.radius) || c.radius <= 0) return;
    svg.append(SVG('circle', {
      cx: c.x.toFixed(2), cy: c.y.toFixed(2), r: c.radius.toFixed(2), class: `set-area set-${i % PALETTE}`,
    }));
  });
  // Set names outside their circle, on the side away from the centre.
  const cx = width / 2;
  const cy = height / 2;
  labels.forEach((label, i) => {
    const c = circles.get(label);
    if (!c || !Number.isFinite(c.radius) || c.radius <= 0) return;
    let dx = c.x - cx;
    let dy = c.y - cy;
    const len = Math.hypot(dx, dy) || 1;
    if (Math.hypot(dx, dy) < 1) { dx = 0; dy = -1; } else { dx /= len; dy /= len; }
    const x = Math.min(width - 6, Math.max(6, c.x + dx * (c.radius + 10)));
    const y = Math.min(height - 6, Math.max(14, c.y + dy * (c.radius + 10)));
    const anchor = dx > 0.35 ? 'start' : dx < -0.35 ? 'end' : 'middle';
    svg.append(SVG('text', { x: x.toFixed(1), y: y.toFixed(1), 'text-anchor': anchor, class: `set-name set-text-${i % PALETTE}` }, label));
  });
  for (const a of areas) {
    const r = a.data.region;
    if (!a.text || !Number.isFinite(a.text.x) || !Number.isFinite(a.text.y)) continue;
    if (!r.suppressed && r.count === 0) continue;
    const text = r.suppressed ? '×' : formatNumber(r.count);
    svg.append(SVG('text', {
      x: a.text.x.toFixed(1), y: a.text.y.toFixed(1), 'text-anchor': 'middle', 'dominant-baseline': 'middle',
      class: r.suppressed ? 'region-count suppressed' : 'region-count',
    }, text));
  }
  return svg;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// Bars per age band (grouped by sex when broken down) for one combination.
export function barChart(result, combination, { titleId, descId }) {
  const key = comboKey(combination);
  const cells = result.cells.filter((c) => comboKey(c.combination) === key);
  const bands = result.age_bands || [];
  const sexes = result.breakdown.includes('sex') ? ['F', 'M'] : [null];
  // Counts are whole numbers: at least 0..5 so the ticks are 0, 1, 2, ...
  const max = niceMax(Math.max(5, ...cells.filter((c) => !c.suppressed).map((c) => c.count)));
  const width = 640;
  const height = 300;
  const m = { top: 20, right: 12, bottom: 48, left: 52 };
  const iw = width - m.left - m.right;
  const ih = height - m.top - m.bottom;
  const svg = SVG('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart bars', role: 'img',
    'aria-labelledby': titleId, 'aria-describedby': descId, focusable: 'false',
  });
  // Patterns for withheld bars (hatching, not colour alone).
  svg.append(SVG('defs', {},
    SVG('pattern', { id: 'hatch', width: '6', height: '6', patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      SVG('rect', { width: '6', height: '6', class: 'hatch-bg' }),
      SVG('line', { x1: '0', y1: '0', x2: '0', y2: '6', class: 'hatch-line' }))));
  const g = SVG('g', { transform: `translate(${m.left},${m.top})` });
  svg.append(g);
  const ticks = 5;
  for (let i = 0; i <= ticks; i++) {
    const v = (max / ticks) * i;
    const y = ih - (v / max) * ih;
    g.append(SVG('line', { x1: '0', x2: String(iw), y1: y.toFixed(1), y2: y.toFixed(1), class: i === 0 ? 'axis' : 'gridline' }));
    g.append(SVG('text', { x: '-6', y: y.toFixed(1), 'text-anchor': 'end', 'dominant-baseline': 'middle', class: 'tick' },
      formatNumber(Math.round(v * 10) / 10)));
  }
  const bandW = iw / Math.max(1, bands.length);
  const barW = Math.min(56, (bandW * 0.7) / sexes.length);
  bands.forEach((band, bi) => {
    const x0 = bi * bandW + (bandW - barW * sexes.length) / 2;
    sexes.forEach((sex, si) => {
      const cell = cells.find((c) => c.age_band === band && (sex === null || c.sex === sex));
      if (!cell) return;
      const x = x0 + si * barW;
      const cls = sex === 'M' ? 'bar bar-m' : 'bar bar-f';
      if (cell.suppressed) {
        const hh = Math.max(6, ih * 0.04);
        g.append(SVG('rect', { x: (x + 2).toFixed(1), y: (ih - hh).toFixed(1), width: (barW - 4).toFixed(1), height: hh.toFixed(1), class: 'bar bar-suppressed', fill: 'url(#hatch)' }));
        g.append(SVG('text', { x: (x + barW / 2).toFixed(1), y: (ih - hh - 4).toFixed(1), 'text-anchor': 'middle', class: 'bar-label suppressed' }, '×'));
      } else {
        const bh = (cell.count / max) * ih;
        g.append(SVG('rect', { x: (x + 2).toFixed(1), y: (ih - bh).toFixed(1), width: (barW - 4).toFixed(1), height: bh.toFixed(1), class: cls }));
        g.append(SVG('text', { x: (x + barW / 2).toFixed(1), y: (ih - bh - 4).toFixed(1), 'text-anchor': 'middle', class: 'bar-label' },
          formatNumber(cell.count)));
      }
    });
    g.append(SVG('text', { x: (bi * bandW + bandW / 2).toFixed(1), y: String(ih + 20), 'text-anchor': 'middle', class: 'tick band' }, bandText(band)));
  });
  return svg;
}

// A legend for the bar chart: female, male, withheld.
export function barLegend(result) {
  const items = [];
  if (result.breakdown.includes('sex')) {
    items.push(['swatch-f', sexName('F')], ['swatch-m', sexName('M')]);
  } else {
    items.push(['swatch-f', t('result.count')]);
  }
  items.push(['swatch-suppressed', t('result.legend_suppressed')]);
  return h('ul', { class: 'legend' }, items.map(([cls, text]) => h('li', {},
    h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text)));
}

export function eulerLegend(result) {
  return h('ul', { class: 'legend' }, result.labels.map((label, i) => h('li', {},
    h('span', { class: `swatch set-swatch-${i % PALETTE}`, 'aria-hidden': 'true' }), label)));
}
