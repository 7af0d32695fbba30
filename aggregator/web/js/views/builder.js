// The query builder: groups of nodes (the query's sets), the period, the
// breakdown and the disclosure threshold, checked against the federation
// (GET /api/v1/federation) as the user types; the query document it will
// submit (SPEC 7.1) is shown and can be copied.
import * as api from '../api.js';
import { h, clear, uid, announce, put } from '../dom.js';
import { t, formatMonth } from '../i18n.js';
import { sectorName, sectorLabel, periodText, gridText } from '../labels.js';

const MAX_SETS = 6;            // CC_LIMIT_SETS
const MAX_TABLE_CELLS = 8192;  // CC_LIMIT_TABLE_CELLS
const MAX_MIN_CELL = 1000;     // CC_LIMIT_MIN_CELL
const MAX_TITLE = 200;         // CC_LIMIT_TITLE (bytes)
const MAX_LABEL = 64;          // CC_LIMIT_LABEL (bytes)

let fed = null;      // the federation as last fetched
let draft = null;    // what the user has put together so far
let submitting = false;
let jsonOpen = false;  // whether the JSON view is unfolded (kept across redraws)

const bytes = (s) => new TextEncoder().encode(s).length;
const monthIndex = (ym) => {
  const m = /^(\d{4})-(\d{2})$/.exec(ym || '');
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) return null;
  return Number(m[1]) * 12 + Number(m[2]) - 1;
};
const monthOf = (i) => `${String(Math.floor(i / 12)).padStart(4, '0')}-${String((i % 12) + 1).padStart(2, '0')}`;

function nodeById(id) {
  return fed.nodes.find((n) => n.id === id);
}

function usable(node) {
  return node.period && monthIndex(node.period.from) !== null && monthIndex(node.period.to) !== null;
}

// The period every selected node holds (the intersection), or null.
function commonPeriod(nodeIds) {
  let lo = null;
  let hi = null;
  for (const id of nodeIds) {
    const n = nodeById(id);
    if (!n || !usable(n)) return null;
    const a = monthIndex(n.period.from);
    const b = monthIndex(n.period.to);
    lo = lo === null ? a : Math.max(lo, a);
    hi = hi === null ? b : Math.min(hi, b);
  }
  if (lo === null || lo > hi) return null;
  return { from: monthOf(lo), to: monthOf(hi), lo, hi };
}

// Categories every node of the set has (SPEC 7.2 rule 11).
function commonCategories(nodeIds) {
  let common = null;
  for (const id of nodeIds) {
    const n = nodeById(id);
    const cats = new Set(n ? n.categories || [] : []);
    common = common === null ? cats : new Set([...common].filter((c) => cats.has(c)));
  }
  return common ? [...common].sort() : [];
}

function newSet(nodes = []) {
  return { key: uid('set'), label: '', labelAuto: true, nodes, categories: [] };
}

function autoLabel(set) {
  const sectors = [];
  for (const id of set.nodes) {
    const n = nodeById(id);
    const s = n ? sectorLabel(n.sector) : id;
    if (!sectors.includes(s)) sectors.push(s);
  }
  return sectors.join(' + ');
}

function initialDraft() {
  const d = {
    title: '',
    from: '',
    to: '',
    sets: [],
    ageBand: false,
    sex: false,
    grid: 0,
    minCell: Math.max(5, fed.policy.min_cell_floor || 1),
  };
  // One group per sector to start with: the usual question is "known to
  // school, social services and BUP".
  const bySector = new Map();
  const order = ['school', 'social', 'health'];
  const rank = (sector) => (order.includes(sector) ? order.indexOf(sector) : order.length);
  const nodes = [...fed.nodes].sort((a, b) => rank(a.sector) - rank(b.sector) || (a.id < b.id ? -1 : 1));
  for (const n of nodes) {
    if (!usable(n)) continue;
    if (!bySector.has(n.sector)) bySector.set(n.sector, []);
    bySector.get(n.sector).push(n.id);
  }
  for (const ids of bySector.values()) {
    if (d.sets.length < MAX_SETS) d.sets.push(newSet(ids));
  }
  if (d.sets.length === 0) d.sets.push(newSet());
  for (const s of d.sets) s.label = autoLabel(s);
  // The latest calendar year all the groups' nodes hold ("this year
  // compared with last year" is how follow-up is read), else their last
  // twelve months.
  const all = d.sets.flatMap((s) => s.nodes);
  const p = commonPeriod(all);
  if (p) {
    const lastFullYear = Math.floor((p.hi + 1) / 12) - 1;
    if (lastFullYear * 12 >= p.lo) {
      d.from = monthOf(lastFullYear * 12);
      d.to = monthOf(lastFullYear * 12 + 11);
    } else {
      d.to = p.to;
      d.from = monthOf(Math.max(p.lo, p.hi - 11));
    }
  }
  const grids = fed.policy.age_band_grids || [];
  d.ageBand = grids.length > 0;
  d.sex = fed.policy.allow_sex !== false;
  return d;
}

// The query document of SPEC 7.1, exactly as it will be submitted.
function queryDocument() {
  const doc = {
    title: draft.title.trim(),
    period: { from: draft.from, to: draft.to },
    sets: draft.sets.map((s) => {
      const set = { label: s.label.trim(), nodes: [...s.nodes] };
      if (s.categories.length > 0) set.categories = [...s.categories];
      return set;
    }),
    breakdown: [],
    min_cell: Number(draft.minCell),
  };
  if (draft.ageBand) {
    doc.breakdown.push('age_band');
    doc.age_bands = (fed.policy.age_band_grids[draft.grid] || []).map((b) => [...b]);
  }
  if (draft.sex) doc.breakdown.push('sex');
  return doc;
}

function breakdownCells() {
  let cells = 1;
  if (draft.ageBand) cells *= (fed.policy.age_band_grids[draft.grid] || []).length || 1;
  if (draft.sex) cells *= 2;
  return cells;
}

// Problems that stop the query from being sent, each {field, text}.
function problems() {
  const out = [];
  const p = fed.policy;
  const title = draft.title.trim();
  if (!title) out.push({ field: 'title', text: t('builder.err_title') });
  else if (bytes(title) > MAX_TITLE) out.push({ field: 'title', text: t('builder.err_title_long', { max: MAX_TITLE }) });
  if (draft.sets.length === 0) out.push({ field: 'sets', text: t('builder.err_no_sets') });
  const labels = new Set();
  draft.sets.forEach((s, i) => {
    const n = i + 1;
    const label = s.label.trim();
    if (!label) out.push({ field: `label-${s.key}`, text: t('builder.err_label', { n }) });
    else if (bytes(label) > MAX_LABEL) out.push({ field: `label-${s.key}`, text: t('builder.err_label_long', { n, max: MAX_LABEL }) });
    else if (labels.has(label)) out.push({ field: `label-${s.key}`, text: t('builder.err_label_dup', { n }) });
    labels.add(label);
    if (s.nodes.length === 0) out.push({ field: `nodes-${s.key}`, text: t('builder.err_nodes', { n }) });
  });
  const a = monthIndex(draft.from);
  const b = monthIndex(draft.to);
  if (a === null || b === null) {
    out.push({ field: 'from', text: t('builder.err_period') });
  } else if (a > b) {
    out.push({ field: 'from', text: t('builder.err_period_order') });
  } else {
    const months = b - a + 1;
    if (months > p.max_period_months) out.push({ field: 'to', text: t('builder.err_period_long', { max: p.max_period_months }) });
    const align = p.period_align_months || 1;
    if (align > 1 && ((a % 12) % align !== 0 || months % align !== 0)) {
      out.push({ field: 'from', text: t('builder.err_period_align', { count: align }) });
    }
    const all = draft.sets.flatMap((s) => s.nodes);
    for (const id of all) {
      const n = nodeById(id);
      if (n && usable(n) && (a < monthIndex(n.period.from) || b > monthIndex(n.period.to))) {
        out.push({ field: 'from', text: t('builder.err_period_node', { node: id, period: periodText(n.period) }) });
      }
    }
  }
  if (draft.ageBand && !(fed.policy.age_band_grids || [])[draft.grid]) {
    out.push({ field: 'grid', text: t('builder.err_grid') });
  }
  const mc = Number(draft.minCell);
  if (!Number.isInteger(mc) || mc < (p.min_cell_floor || 1) || mc > MAX_MIN_CELL) {
    out.push({ field: 'min-cell', text: t('builder.err_min_cell', { min: p.min_cell_floor || 1, max: MAX_MIN_CELL }) });
  }
  const combos = 2 ** draft.sets.length - 1;
  if (combos * breakdownCells() > MAX_TABLE_CELLS) {
    out.push({ field: 'sets', text: t('builder.err_table', { max: MAX_TABLE_CELLS }) });
  }
  return out;
}

export function renderBuilder(main, ctx) {
  document.title = `${t('builder.title')} – crosscount`;
  const body = h('div', { class: 'builder-body' }, h('p', { class: 'loading', text: t('app.loading') }));
  put(main,
    h('h1', { text: t('builder.title') }),
    h('p', { class: 'lead', text: t('builder.intro') }),
    body,
  );
  let alive = true;
  (async () => {
    try {
      if (!fed || !draft) fed = await api.federation();
    } catch (e) {
      if (!alive) return;
      put(clear(body), h('p', { class: 'alert error', role: 'alert', text: t('error.federation', { message: e.message }) }));
      return;
    }
    if (!alive) return;
    if (!draft) draft = initialDraft();
    build(body, ctx);
  })();
  return () => { alive = false; };
}

function build(body, ctx) {
  clear(body);
  if (fed.nodes.length === 0) {
    put(body, h('p', { class: 'alert info', text: t('builder.no_nodes') }));
    return;
  }
  const form = h('form', { class: 'builder', novalidate: true });
  const summary = h('div', { class: 'builder-summary card', 'aria-labelledby': 'summary-heading' });
  const refresh = () => updateSummary(summary);

  // -- title
  const titleInput = h('input', {
    id: 'title', type: 'text', value: draft.title, maxlength: String(MAX_TITLE), 'aria-describedby': 'title-hint',
    oninput: (e) => { draft.title = e.target.value; refresh(); },
  });
  put(form, h('section', { class: 'card', 'aria-labelledby': 'sec-title' },
    h('h2', { id: 'sec-title', text: t('builder.sec_title') }),
    h('div', { class: 'field' },
      h('label', { for: 'title', text: t('builder.title_label') }),
      h('p', { id: 'title-hint', class: 'hint', text: t('builder.title_hint') }),
      titleInput),
  ));

  // -- groups (sets)
  const setsBox = h('div', { class: 'sets' });
  const addBtn = h('button', {
    type: 'button', class: 'secondary', text: t('builder.add_set'),
    onclick: () => {
      if (draft.sets.length >= MAX_SETS) return;
      const s = newSet();
      draft.sets.push(s);
      drawSets();
      refresh();
      const first = setsBox.querySelector(`#label-${s.key}`);
      if (first) first.focus();
      announce(t('builder.set_added', { n: draft.sets.length }));
    },
  });
  const drawSets = () => {
    clear(setsBox);
    draft.sets.forEach((s, i) => put(setsBox, setEditor(s, i, () => { drawSets(); refresh(); }, refresh)));
    addBtn.disabled = draft.sets.length >= MAX_SETS;
  };
  drawSets();
  put(form, h('section', { class: 'card', 'aria-labelledby': 'sec-sets' },
    h('h2', { id: 'sec-sets', text: t('builder.sec_sets') }),
    h('p', { class: 'hint', text: t('builder.sets_hint', { max: MAX_SETS }) }),
    setsBox,
    h('div', { class: 'actions' }, addBtn),
  ));

  // -- period
  const periodHint = h('p', { id: 'period-hint', class: 'hint' });
  const monthField = (id, key, prop) => h('div', { class: 'field field-inline' },
    h('label', { for: id, text: t(key) }),
    h('input', {
      id, type: 'month', value: draft[prop], pattern: '[0-9]{4}-[0-9]{2}', placeholder: t('builder.month_placeholder'),
      'aria-describedby': 'period-hint',
      oninput: (e) => { draft[prop] = e.target.value; refresh(); },
    }));
  put(form, h('section', { class: 'card', 'aria-labelledby': 'sec-period' },
    h('h2', { id: 'sec-period', text: t('builder.sec_period') }),
    h('div', { class: 'row' },
      monthField('from', 'builder.from', 'from'),
      monthField('to', 'builder.to', 'to')),
    periodHint,
  ));

  // -- breakdown
  const grids = fed.policy.age_band_grids || [];
  const gridBox = h('fieldset', { class: 'grid-choice', id: 'grid' },
    h('legend', { text: t('builder.grid_legend') }),
    grids.map((g, i) => h('div', { class: 'choice' },
      h('input', {
        type: 'radio', name: 'grid', id: `grid-${i}`, value: String(i), checked: draft.grid === i,
        disabled: !draft.ageBand,
        onchange: () => { draft.grid = i; refresh(); },
      }),
      h('label', { for: `grid-${i}`, text: gridText(g) }))));
  const ageBox = h('input', {
    type: 'checkbox', id: 'by-age', checked: draft.ageBand, disabled: grids.length === 0,
    onchange: (e) => {
      draft.ageBand = e.target.checked;
      for (const r of gridBox.querySelectorAll('input')) r.disabled = !draft.ageBand;
      refresh();
    },
  });
  const sexBox = h('input', {
    type: 'checkbox', id: 'by-sex', checked: draft.sex, disabled: fed.policy.allow_sex === false,
    onchange: (e) => { draft.sex = e.target.checked; refresh(); },
  });
  put(form, h('section', { class: 'card', 'aria-labelledby': 'sec-breakdown' },
    h('h2', { id: 'sec-breakdown', text: t('builder.sec_breakdown') }),
    h('p', { class: 'hint', text: t('builder.breakdown_hint') }),
    h('div', { class: 'choice' }, ageBox, h('label', { for: 'by-age', text: t('builder.by_age') })),
    grids.length === 0 ? h('p', { class: 'hint', text: t('builder.no_grids') }) : gridBox,
    h('div', { class: 'choice' }, sexBox, h('label', { for: 'by-sex', text: t('builder.by_sex') })),
    fed.policy.allow_sex === false ? h('p', { class: 'hint', text: t('builder.no_sex') }) : null,
  ));

  // -- small numbers
  const floor = fed.policy.min_cell_floor || 1;
  const minHint = h('p', { id: 'min-cell-hint', class: 'hint' });
  const minInput = h('input', {
    id: 'min-cell', type: 'number', min: String(floor), max: String(MAX_MIN_CELL), step: '1',
    value: String(draft.minCell), inputmode: 'numeric', 'aria-describedby': 'min-cell-hint min-cell-floor',
    oninput: (e) => { draft.minCell = e.target.value; refresh(); },
  });
  put(form, h('section', { class: 'card', 'aria-labelledby': 'sec-protect' },
    h('h2', { id: 'sec-protect', text: t('builder.sec_protect') }),
    h('div', { class: 'field field-inline' },
      h('label', { for: 'min-cell', text: t('builder.min_cell') }), minInput),
    h('p', { id: 'min-cell-floor', class: 'hint', text: t('builder.min_cell_floor', { floor }) }),
    minHint,
  ));

  put(body, h('div', { class: 'builder-layout' }, form, summary));
  const updaters = { periodHint, minHint };
  summary.updaters = updaters;
  summary.ctx = ctx;
  refresh();
}

function setEditor(s, i, redraw, refresh) {
  const n = i + 1;
  const usedElsewhere = new Map();
  draft.sets.forEach((o, j) => {
    if (o !== s) for (const id of o.nodes) usedElsewhere.set(id, j + 1);
  });
  const catsBox = h('div', { class: 'categories' });
  const labelInput = h('input', {
    id: `label-${s.key}`, type: 'text', value: s.label, maxlength: String(MAX_LABEL),
    'aria-describedby': `label-hint-${s.key}`,
    oninput: (e) => { s.label = e.target.value; s.labelAuto = s.label.trim() === ''; refresh(); },
  });
  const drawCats = () => {
    clear(catsBox);
    const cats = commonCategories(s.nodes);
    s.categories = s.categories.filter((c) => cats.includes(c));
    if (s.nodes.length === 0) return;
    if (cats.length === 0) {
      put(catsBox, h('p', { class: 'hint', text: t('builder.no_categories') }));
      return;
    }
    put(catsBox, h('fieldset', {},
      h('legend', { text: t('builder.categories_legend', { n }) }),
      h('p', { class: 'hint', text: t('builder.categories_hint') }),
      h('div', { class: 'choices-inline' }, cats.map((c, k) => {
        const id = `cat-${s.key}-${k}`;
        return h('div', { class: 'choice' },
          h('input', {
            type: 'checkbox', id, value: c, checked: s.categories.includes(c),
            onchange: (e) => {
              if (e.target.checked) s.categories.push(c);
              else s.categories = s.categories.filter((x) => x !== c);
              s.categories.sort();
              refresh();
            },
          }),
          h('label', { for: id, text: c }));
      }))));
  };
  const nodesBox = h('fieldset', { id: `nodes-${s.key}` },
    h('legend', { text: t('builder.nodes_legend', { n }) }),
    h('div', { class: 'node-grid' }, fed.nodes.map((node) => {
      const id = `node-${s.key}-${node.id}`;
      const other = usedElsewhere.get(node.id);
      const disabled = !usable(node) || other !== undefined;
      const note = !usable(node) ? t('builder.node_no_catalogue')
        : other !== undefined ? t('builder.node_in_other', { n: other }) : periodText(node.period);
      return h('div', { class: ['choice', 'node-choice', disabled && 'disabled'] },
        h('input', {
          type: 'checkbox', id, value: node.id, checked: s.nodes.includes(node.id), disabled,
          'aria-describedby': `${id}-note`,
          onchange: (e) => {
            if (e.target.checked) s.nodes.push(node.id);
            else s.nodes = s.nodes.filter((x) => x !== node.id);
            s.nodes.sort();
            if (s.labelAuto) {
              s.label = autoLabel(s);
              labelInput.value = s.label;
            }
            drawCats();
            // Other groups must now show this node as taken.
            redraw();
            const again = document.getElementById(id);
            if (again) again.focus();
          },
        }),
        h('div', { class: 'node-text' },
          h('label', { for: id },
            h('span', { class: 'node-id', text: node.id }), ' ',
            h('span', { class: 'node-sector', text: sectorName(node.sector) })),
          h('span', { class: 'node-note', id: `${id}-note`, text: note })));
    })));
  drawCats();
  const removeBtn = h('button', {
    type: 'button', class: 'link-button danger', text: t('builder.remove_set_label', { n }),
    disabled: draft.sets.length <= 1,
    onclick: () => {
      draft.sets = draft.sets.filter((o) => o !== s);
      redraw();
      announce(t('builder.set_removed', { n }));
      const h2 = document.getElementById('sec-sets');
      if (h2) { h2.setAttribute('tabindex', '-1'); h2.focus(); }
    },
  });
  return h('fieldset', { class: 'set-editor', 'data-set': String(i) },
    h('legend', { text: t('builder.set_legend', { n }) }),
    h('div', { class: 'field' },
      h('label', { for: `label-${s.key}`, text: t('builder.label') }),
      h('p', { id: `label-hint-${s.key}`, class: 'hint', text: t('builder.label_hint') }),
      labelInput),
    nodesBox,
    catsBox,
    h('div', { class: 'actions' }, removeBtn));
}

function updateSummary(summary) {
  const { periodHint, minHint } = summary.updaters;
  const ctx = summary.ctx;
  const all = draft.sets.flatMap((s) => s.nodes);
  const common = commonPeriod(all);
  const a = monthIndex(draft.from);
  const b = monthIndex(draft.to);
  const months = a !== null && b !== null && b >= a ? b - a + 1 : 0;
  periodHint.textContent = [
    common ? t('builder.period_common', { period: periodText(common) }) : t('builder.period_no_common'),
    t('builder.period_max', { max: fed.policy.max_period_months }),
    (fed.policy.period_align_months || 1) > 1 ? t('builder.period_align', { count: fed.policy.period_align_months }) : '',
  ].filter(Boolean).join(' ');
  const mc = Number(draft.minCell);
  minHint.textContent = Number.isInteger(mc) && mc >= 1
    ? (mc > 1 ? t('builder.min_cell_explain', { max: mc - 1, min: mc }) : t('builder.min_cell_one'))
    : '';

  const doc = queryDocument();
  const errs = problems();
  const combos = 2 ** draft.sets.length - 1;
  const cells = breakdownCells();
  const json = JSON.stringify(doc, null, 2);
  const copyStatus = h('span', { class: 'copy-status', role: 'status' });
  const pre = h('pre', { class: 'json', id: 'query-json', tabindex: '0', 'aria-label': t('builder.json_label') },
    h('code', { text: json }));
  const submitBtn = h('button', { type: 'button', id: 'submit-query', class: 'primary', text: t('builder.submit') });
  const submitError = h('div', { class: 'alert error', role: 'alert', id: 'submit-error', hidden: true });
  const list = errs.length
    ? h('div', { class: 'alert warning', id: 'builder-problems' },
      h('p', { text: t('builder.problems', { count: errs.length }) }),
      h('ul', {}, errs.map((e) => h('li', {},
        h('a', { href: `#${e.field}`, text: e.text, onclick: (ev) => { ev.preventDefault(); focusField(e.field); } })))))
    : h('p', { class: 'alert ok', id: 'builder-problems', text: t('builder.ready') });

  submitBtn.addEventListener('click', async () => {
    const now = problems();
    if (now.length) {
      focusField(now[0].field);
      return;
    }
    if (submitting) return;
    submitting = true;
    submitBtn.disabled = true;
    submitError.hidden = true;
    try {
      const res = await api.submitQuery(queryDocument());
      announce(t('builder.submitted'));
      draft = null;
      ctx.navigate(`#/queries/${res.id}`);
    } catch (e) {
      submitError.textContent = e.status === 422 ? t('builder.refused', { message: e.message })
        : e.status === 400 ? t('builder.malformed', { message: e.message })
          : e.status === 403 ? t('builder.forbidden') : t('error.generic', { message: e.message });
      submitError.hidden = false;
      submitError.focus();
    } finally {
      submitting = false;
      submitBtn.disabled = false;
    }
  });
  submitError.setAttribute('tabindex', '-1');

  const setNames = draft.sets.map((s, i) => s.label.trim() || t('builder.set_legend', { n: i + 1 }));
  const minCellText = Number.isInteger(mc) ? mc : '?';
  put(clear(summary),
    h('h2', { id: 'summary-heading', text: t('builder.summary') }),
    h('dl', { class: 'facts' },
      h('dt', { text: t('builder.sum_sets') }), h('dd', { text: setNames.join(', ') || '–' }),
      h('dt', { text: t('builder.sum_period') }),
      h('dd', { text: months ? `${formatMonth(draft.from)} – ${formatMonth(draft.to)} (${t('builder.months', { count: months })})` : '–' }),
      h('dt', { text: t('builder.sum_breakdown') }),
      h('dd', { text: [draft.ageBand ? t('builder.by_age_short') : '', draft.sex ? t('builder.by_sex_short') : ''].filter(Boolean).join(', ') || t('builder.no_breakdown') }),
      h('dt', { text: t('builder.sum_min_cell') }), h('dd', { id: 'summary-min-cell', text: String(minCellText) }),
      h('dt', { text: t('builder.sum_size') }),
      h('dd', { text: t('builder.size', { combos, cells, total: combos * cells }) }),
      h('dt', { text: t('builder.sum_deadline') }),
      h('dd', { text: t('builder.deadline', { count: fed.policy.deadline_minutes }) })),
    h('p', { class: 'hint', text: t('builder.approval_note') }),
    list,
    submitError,
    h('div', { class: 'actions' }, submitBtn),
    h('details', { class: 'json-details', open: jsonOpen, ontoggle: (e) => { jsonOpen = e.target.open; } },
      h('summary', { text: t('builder.show_json') }),
      h('p', { class: 'hint', text: t('builder.json_hint') }),
      pre,
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', class: 'secondary', id: 'copy-json', text: t('builder.copy_json'),
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(json);
              copyStatus.textContent = t('builder.copied');
            } catch {
              const range = document.createRange();
              range.selectNodeContents(pre);
              const sel = window.getSelection();
              sel.removeAllRanges();
              sel.addRange(range);
              copyStatus.textContent = t('builder.copy_manual');
            }
          },
        }),
        copyStatus)),
  );
}

function focusField(field) {
  const el = document.getElementById(field);
  if (!el) return;
  const target = el.matches('input, select, textarea, button') ? el : el.querySelector('input:not([disabled]), select, textarea') || el;
  if (!target.matches('input, select, textarea, button')) target.setAttribute('tabindex', '-1');
  target.focus();
}
