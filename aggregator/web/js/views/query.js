// One query: its progress while it runs (each node's approval and steps,
// the deadline, why it failed), then its released table with withheld
// cells marked and explained, the pictures, the CSV and a print view.
import * as api from '../api.js';
import { h, clear, announce, put } from '../dom.js';
import { t, formatTime, formatNumber, formatMonth } from '../i18n.js';
import { statusName, approvalName, bandText, sexName, TERMINAL } from '../labels.js';
import { eulerDiagram, barChart, barLegend, eulerLegend, regionsOf } from '../charts.js';

const POLL_MS = 2000;
const cache = new Map();  // id -> {query, result}: a language switch redraws without a fetch
const chartChoice = new Map();  // id -> the bar chart's combination key

export function renderQuery(main, ctx, id) {
  let alive = true;
  let timer = null;
  let lastStatus = null;
  const heading = h('h1', { text: t('query.loading') });
  const progress = h('section', { class: 'progress', 'aria-labelledby': 'progress-heading' });
  const resultBox = h('section', { class: 'result', id: 'result', 'aria-labelledby': 'result-heading', hidden: true });
  const errorBox = h('div', { class: 'alert error', role: 'alert', hidden: true });
  put(main,
    h('p', { class: 'breadcrumb no-print' }, h('a', { href: '#/queries', text: t('query.back') })),
    heading, errorBox, progress, resultBox,
  );
  document.title = `${t('query.title')} – crosscount`;

  const show = async (q) => {
    heading.textContent = q.title;
    document.title = `${q.title} – crosscount`;
    drawProgress(progress, q);
    if (lastStatus !== null && lastStatus !== q.status) {
      announce(t('query.status_changed', { status: statusName(q.status) }));
    }
    lastStatus = q.status;
    if (q.status === 'released') {
      let entry = cache.get(id);
      if (!entry || !entry.result) {
        const result = await api.getResult(id);
        entry = { query: q, result };
        cache.set(id, entry);
      }
      if (!alive) return;
      resultBox.hidden = false;
      await drawResult(resultBox, q, entry.result);
    }
  };

  const poll = async () => {
    timer = null;
    try {
      const q = await api.getQuery(id);
      if (!alive) return;
      errorBox.hidden = true;
      if (TERMINAL.has(q.status)) cache.set(id, { ...(cache.get(id) || {}), query: q });
      await show(q);
      if (alive && !TERMINAL.has(q.status)) timer = window.setTimeout(poll, POLL_MS);
    } catch (e) {
      if (!alive) return;
      if (e.status === 404) {
        heading.textContent = t('query.not_found');
        put(clear(progress), h('p', { text: t('query.not_found_text') }));
        return;
      }
      if (e.status === 401) return;
      errorBox.textContent = t('query.poll_error', { message: e.message });
      errorBox.hidden = false;
      timer = window.setTimeout(poll, POLL_MS * 3);
    }
  };

  const cached = cache.get(id);
  if (cached && cached.query && TERMINAL.has(cached.query.status)) {
    lastStatus = cached.query.status;
    show(cached.query).catch((e) => {
      errorBox.textContent = t('error.generic', { message: e.message });
      errorBox.hidden = false;
    });
  } else {
    poll();
  }
  return () => {
    alive = false;
    if (timer) window.clearTimeout(timer);
  };
}

function drawProgress(box, q) {
  // Keep what the user unfolded across the redraw of each poll.
  const wasOpen = new Set([...box.querySelectorAll('details[open]')].map((d) => d.className));
  const terminal = TERMINAL.has(q.status);
  const totalSteps = q.nodes.reduce((s, n) => s + n.steps_total, 0);
  const doneSteps = q.nodes.reduce((s, n) => s + n.steps_done, 0);
  const facts = h('dl', { class: 'facts' },
    h('dt', { text: t('query.status') }),
    h('dd', {}, h('span', { class: `badge status-${q.status}`, id: 'query-status', 'data-status': q.status, text: statusName(q.status) })),
    h('dt', { text: t('query.submitted') }), h('dd', { text: formatTime(q.submitted) }),
    h('dt', { text: t('query.deadline') }), h('dd', { text: formatTime(q.deadline) }),
    q.finished ? [h('dt', { text: t('query.finished') }), h('dd', { text: formatTime(q.finished) })] : null,
    h('dt', { text: t('query.owner') }), h('dd', { text: q.owner }),
    h('dt', { text: t('query.period') }),
    h('dd', { text: q.query && q.query.period ? `${formatMonth(q.query.period.from)} – ${formatMonth(q.query.period.to)}` : '' }),
    h('dt', { text: t('query.id') }), h('dd', {}, h('code', { text: q.id })));

  let message = null;
  if (q.status === 'failed' || q.status === 'rejected') {
    // A rejection in the user's language from the nodes' own words; the
    // aggregator's sentence (English) for anything else.
    const rejecters = q.nodes.filter((n) => n.approval === 'rejected');
    const reasons = q.status === 'rejected' && rejecters.length
      ? rejecters.map((n) => h('p', { text: n.reason ? t('query.rejected_by', { node: n.id, reason: n.reason }) : t('query.rejected_by_no_reason', { node: n.id }) }))
      : [h('p', { text: q.reason ? t('query.reason', { reason: q.reason }) : t('query.no_reason') })];
    message = h('div', { class: 'alert error', role: 'alert', id: 'query-reason' },
      h('p', { class: 'alert-title', text: t(`query.${q.status}_title`) }),
      reasons,
      h('p', { text: t(`query.${q.status}_next`) }));
  } else if (!terminal) {
    message = h('p', { class: 'alert info', text: t(`query.explain_${q.status}`) });
  }

  const nodeRows = q.nodes.map((n) => h('tr', { 'data-node': n.id },
    h('th', { scope: 'row', text: n.id }),
    h('td', {}, terminal && n.approval === 'pending'
      ? h('span', { class: 'badge approval-none', text: t('approval.none') })
      : h('span', { class: `badge approval-${n.approval}`, text: approvalName(n.approval) })),
    h('td', {},
      h('progress', { max: String(n.steps_total || 1), value: String(n.steps_done), 'aria-label': t('query.steps_of_node', { node: n.id }) }),
      ' ', h('span', { text: t('query.steps', { done: n.steps_done, total: n.steps_total }) })),
    h('td', { text: n.reason || '' })));
  const chainRows = (q.chains || []).map((c) => h('tr', {},
    h('th', { scope: 'row', text: t('query.chain_from', { origin: c.origin }) }),
    h('td', {},
      h('progress', { max: String(c.hops_total || 1), value: String(c.hops_done), 'aria-label': t('query.chain_from', { origin: c.origin }) }),
      ' ', h('span', { text: t('query.steps', { done: c.hops_done, total: c.hops_total }) }))));

  const detail = h('div', { class: ['progress-detail', terminal && 'no-print'] },
      h('p', { class: 'overall' },
        h('label', { for: 'overall-progress', text: t('query.overall') }), ' ',
        h('progress', { id: 'overall-progress', max: String(totalSteps || 1), value: String(doneSteps) }), ' ',
        h('span', { text: t('query.steps', { done: doneSteps, total: totalSteps }) })),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'data nodes' },
          h('caption', { text: t('query.nodes_caption') }),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col', text: t('query.node') }),
            h('th', { scope: 'col', text: t('query.approval') }),
            h('th', { scope: 'col', text: t('query.steps_done') }),
            h('th', { scope: 'col', text: t('query.note') }))),
          h('tbody', {}, nodeRows))),
      chainRows.length ? h('details', { class: 'chains', open: wasOpen.has('chains') },
        h('summary', { text: t('query.chains_summary') }),
        h('p', { class: 'hint', text: t('query.chains_hint') }),
        h('div', { class: 'table-wrap' },
          h('table', { class: 'data' },
            h('caption', { class: 'visually-hidden', text: t('query.chains_summary') }),
            h('thead', {}, h('tr', {},
              h('th', { scope: 'col', text: t('query.chain') }),
              h('th', { scope: 'col', text: t('query.steps_done') }))),
            h('tbody', {}, chainRows)))) : null,
      q.query ? h('details', { class: 'query-doc', open: wasOpen.has('query-doc') },
        h('summary', { text: t('query.show_document') }),
        h('pre', { class: 'json', tabindex: '0', 'aria-label': t('query.show_document') },
          h('code', { text: JSON.stringify(q.query, null, 2) }))) : null);
  put(clear(box),
    h('h2', { id: 'progress-heading', text: t(terminal ? 'query.about' : 'query.progress') }),
    facts,
    message,
    // Once the query has ended its steps are history: folded away.
    terminal ? h('details', { class: 'steps-detail no-print', open: wasOpen.has('steps-detail no-print') },
      h('summary', { text: t('query.show_steps') }), detail) : detail);
}

const comboKey = (c) => c.join('\u0000');

// "skola + bup" and what it leaves out: "not socialtjänst".
function comboName(result, combo) {
  return combo.join(' + ');
}

function comboOthers(result, combo) {
  if (result.labels.length === 1) return '';
  const others = result.labels.filter((l) => !combo.includes(l));
  return others.length ? t('result.not_in', { sets: others.join(', ') }) : t('result.in_all');
}

function countCell(item, attrs = {}) {
  if (item.suppressed) {
    return h('td', { ...attrs, class: 'num suppressed', 'data-suppressed': 'true' },
      h('span', { 'aria-hidden': 'true', text: '×' }),
      h('span', { class: 'visually-hidden', text: t('result.suppressed_sr') }));
  }
  return h('td', { ...attrs, class: 'num', 'data-suppressed': 'false', 'data-count': String(item.count), text: formatNumber(item.count) });
}

async function drawResult(box, q, r) {
  const byAge = r.breakdown.includes('age_band');
  const bySex = r.breakdown.includes('sex');
  const bands = byAge ? r.age_bands : [null];
  const sexes = bySex ? ['F', 'M'] : [null];
  const multi = bands.length * sexes.length > 1;
  const regions = regionsOf(r);
  const withheld = r.cells.filter((c) => c.suppressed).length;

  // -- the main table: one row per combination, one column per breakdown cell
  const head = [];
  if (byAge && bySex) {
    head.push(h('tr', {},
      h('td', { class: 'corner' }),
      bands.map((b) => h('th', { scope: 'colgroup', colspan: '2', text: bandText(b) })),
      h('td', { class: 'corner' })));
    head.push(h('tr', {},
      h('th', { scope: 'col', text: t('result.combination') }),
      bands.map(() => sexes.map((s) => h('th', { scope: 'col', class: 'num', text: sexName(s) }))),
      h('th', { scope: 'col', class: 'num', text: t('result.total') })));
  } else {
    head.push(h('tr', {},
      h('th', { scope: 'col', text: t('result.combination') }),
      byAge ? bands.map((b) => h('th', { scope: 'col', class: 'num', text: bandText(b) }))
        : bySex ? sexes.map((s) => h('th', { scope: 'col', class: 'num', text: sexName(s) }))
          : h('th', { scope: 'col', class: 'num', text: t('result.count') }),
      multi ? h('th', { scope: 'col', class: 'num', text: t('result.total') }) : null));
  }
  const cellMap = new Map(r.cells.map((c) => [`${comboKey(c.combination)}|${c.age_band ?? ''}|${c.sex ?? ''}`, c]));
  const totalMap = new Map((r.combination_totals || []).map((c) => [comboKey(c.combination), c]));
  const rows = regions.map((reg) => {
    const key = comboKey(reg.combination);
    const name = comboName(r, reg.combination);
    return h('tr', { 'data-combination': reg.combination.join(' + ') },
      h('th', { scope: 'row' },
        h('span', { class: 'combo', text: name }),
        r.labels.length > 1 ? h('span', { class: 'combo-others', text: comboOthers(r, reg.combination) }) : null),
      bands.map((b) => sexes.map((s) => {
        const c = cellMap.get(`${key}|${b ?? ''}|${s ?? ''}`);
        if (!c) return h('td', { class: 'num', text: '' });
        return countCell(c, { 'data-cell': `${reg.combination.join(' + ')}|${b ?? ''}|${s ?? ''}` });
      })),
      multi ? countCell(totalMap.get(key) || reg, { 'data-total': reg.combination.join(' + ') }) : null);
  });
  const table = h('table', { class: 'data result-table', id: 'result-table' },
    h('caption', { text: t('result.table_caption', { title: r.title }) }),
    h('thead', {}, head),
    h('tbody', {}, rows));

  const setTotals = h('table', { class: 'data set-totals', id: 'set-totals' },
    h('caption', { text: t('result.set_totals_caption') }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: t('result.set') }),
      h('th', { scope: 'col', class: 'num', text: t('result.children') }))),
    h('tbody', {}, r.set_totals.map((s) => h('tr', { 'data-set': s.set },
      h('th', { scope: 'row', text: s.set }),
      countCell(s, { 'data-set-total': s.set })))));

  // -- withheld cells in plain words
  const protect = h('aside', { class: 'protect card', 'aria-labelledby': 'protect-heading', id: 'protect' },
    h('h3', { id: 'protect-heading', text: t('result.protect_title') }),
    h('p', { text: r.min_cell > 1 ? t('result.protect_primary', { max: r.min_cell - 1, min: r.min_cell }) : t('result.protect_none') }),
    h('p', { text: t('result.protect_secondary') }),
    h('p', { text: t('result.protect_zero') }),
    h('p', { class: 'protect-count', text: t('result.protect_count', { count: withheld, total: r.cells.length }) }),
    h('p', {}, h('span', { class: 'symbol', 'aria-hidden': 'true', text: '×' }), ' ', t('result.protect_symbol')));

  // -- pictures
  const eulerFig = h('figure', { class: 'chart-figure' });
  const eulerTitle = h('figcaption', { id: 'euler-title' },
    h('span', { class: 'figure-title', text: t('chart.euler_title') }),
    h('span', { class: 'hint', id: 'euler-desc', text: t('chart.euler_desc') }));
  eulerFig.append(eulerTitle, h('div', { class: 'chart-box', id: 'euler' }, h('p', { class: 'loading', text: t('app.loading') })));
  eulerFig.append(eulerLegend(r));

  let barFig = null;
  if (byAge) {
    // Start with the combination of several groups whose bars say the
    // most: the largest sum of published cells.
    const shownSum = (x) => r.cells.filter((c) => comboKey(c.combination) === comboKey(x.combination) && !c.suppressed)
      .reduce((sum, c) => sum + c.count, 0);
    const multiSet = regions.filter((x) => x.combination.length > 1);
    const pool = multiSet.length ? multiSet : regions;
    const best = pool.reduce((a, b) => (shownSum(b) > shownSum(a) ? b : a), pool[0]);
    if (!chartChoice.has(r.id)) chartChoice.set(r.id, comboKey(best.combination));
    const chosen = regions.find((x) => comboKey(x.combination) === chartChoice.get(r.id)) || best;
    const select = h('select', { id: 'bar-combination' },
      regions.map((x) => h('option', { value: comboKey(x.combination), selected: x === chosen, text: comboName(r, x.combination) })));
    const chartBox = h('div', { class: 'chart-box', id: 'bars' });
    const caption = h('span', { class: 'figure-title', id: 'bars-title' });
    const desc = h('span', { class: 'hint', id: 'bars-desc' });
    const draw = () => {
      const combo = regions.find((x) => comboKey(x.combination) === select.value) || chosen;
      chartChoice.set(r.id, comboKey(combo.combination));
      caption.textContent = t('chart.bars_title', { combination: comboName(r, combo.combination) });
      const others = comboOthers(r, combo.combination);
      desc.textContent = others ? `${others.charAt(0).toUpperCase()}${others.slice(1)}. ${t('chart.bars_desc')}` : t('chart.bars_desc');
      put(clear(chartBox), barChart(r, combo.combination, { titleId: 'bars-title', descId: 'bars-desc' }));
    };
    select.addEventListener('change', draw);
    barFig = h('figure', { class: 'chart-figure' },
      h('figcaption', {}, caption, desc),
      regions.length > 1 ? h('div', { class: 'field field-inline no-print' },
        h('label', { for: 'bar-combination', text: t('chart.bars_choose') }), select) : null,
      chartBox,
      barLegend(r));
    draw();
  }

  const csvName = `crosscount-${r.id}.csv`;
  put(clear(box),
    h('h2', { id: 'result-heading', text: t('result.title') }),
    h('p', { class: 'lead', text: t('result.intro') }),
    h('div', { class: 'actions no-print' },
      h('a', { class: 'button secondary', id: 'download-csv', href: api.resultCsvUrl(r.id), download: csvName, text: t('result.download_csv') }),
      h('button', { type: 'button', class: 'secondary', id: 'print', text: t('result.print'), onclick: () => window.print() })),
    h('div', { class: 'result-grid' },
      h('div', {}, h('div', { class: 'table-wrap' }, setTotals)),
      protect),
    // One group overlaps nothing: no diagram of overlaps then.
    h('div', { class: 'charts' }, r.labels.length > 1 ? eulerFig : null, barFig),
    h('h3', { text: t('result.table_heading') }),
    h('p', { class: 'hint', text: t('result.table_hint') }),
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'result-table-caption' }, table),
    h('p', { class: 'digest' },
      h('span', { text: t('result.digest') }), ' ', h('code', { text: r.digest })),
    h('p', { class: 'print-only', text: t('result.printed', { time: formatTime(new Date().toISOString()) }) }),
  );
  table.querySelector('caption').id = 'result-table-caption';
  const holder = box.querySelector('#euler');
  if (holder) put(clear(holder), await eulerDiagram(r, { titleId: 'euler-title', descId: 'euler-desc' }));
}
