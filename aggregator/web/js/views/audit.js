// The audit log (auditor or admin): the chain's verification first, then
// the entries, newest first, with a filter.
import * as api from '../api.js';
import { h, clear, put } from '../dom.js';
import { t, has, formatTime, formatNumber } from '../i18n.js';

const PAGE = 100;
const view = { filter: '', shown: PAGE };
let cached = null;

export function renderAudit(main) {
  document.title = `${t('audit.title')} – crosscount`;
  const body = h('div', {}, h('p', { class: 'loading', text: t('app.loading') }));
  put(main, h('h1', { text: t('audit.title') }), h('p', { class: 'lead', text: t('audit.intro') }), body);
  let alive = true;
  (async () => {
    try {
      cached = await api.audit();
    } catch (e) {
      if (!alive || e.status === 401) return;
      put(clear(body), h('p', { class: 'alert error', role: 'alert',
        text: e.status === 403 ? t('error.forbidden_text') : t('error.generic', { message: e.message }) }));
      return;
    }
    if (alive) draw(body, cached);
  })();
  return () => { alive = false; };
}

function eventName(ev) {
  const key = `audit.event.${ev}`;
  return has(key) ? t(key) : ev;
}

function detailText(detail) {
  if (!detail || typeof detail !== 'object') return '';
  return Object.entries(detail)
    .filter(([k]) => k !== 'document')
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(' · ');
}

// One line per field; a query id links to the query, hashes are code.
function detailList(detail) {
  if (!detail || typeof detail !== 'object') return null;
  const items = Object.entries(detail).filter(([k]) => k !== 'document');
  if (items.length === 0) return null;
  return h('ul', { class: 'detail-list' }, items.map(([k, v]) => {
    const value = typeof v === 'object' ? JSON.stringify(v) : String(v);
    let shown;
    if (k === 'query' && /^[0-9a-f]{32}$/.test(value)) shown = h('a', { href: `#/queries/${value}` }, h('code', { text: value }));
    else if (/^[0-9a-f]{32,}$/.test(value)) shown = h('code', { text: value });
    else shown = h('span', { text: value });
    return h('li', {}, h('span', { class: 'detail-key', text: `${k}: ` }), shown);
  }));
}

function draw(body, data) {
  const entries = [...(data.entries || [])].sort((a, b) => b.seq - a.seq);
  const verdict = data.verified
    ? h('div', { class: 'alert ok', id: 'audit-verdict', 'data-verified': 'true' },
      h('p', { class: 'alert-title', text: t('audit.verified') }),
      h('p', { text: t('audit.verified_text', { count: entries.length }) }))
    : h('div', { class: 'alert error', role: 'alert', id: 'audit-verdict', 'data-verified': 'false' },
      h('p', { class: 'alert-title', text: t('audit.broken') }),
      h('p', { text: data.problem ? t('audit.problem', { problem: data.problem }) : t('audit.broken_text') }));
  const filter = h('input', { id: 'audit-filter', type: 'search', value: view.filter, 'aria-describedby': 'audit-filter-hint' });
  const tableBox = h('div', {});
  const drawTable = () => {
    const f = view.filter.trim().toLowerCase();
    const match = f ? entries.filter((e) => [e.actor, e.event, eventName(e.event), detailText(e.detail), String(e.seq)]
      .some((s) => String(s).toLowerCase().includes(f))) : entries;
    const shown = match.slice(0, view.shown);
    put(clear(tableBox),
      h('p', { role: 'status', class: 'hint', text: t('audit.showing', { shown: shown.length, count: match.length }) }),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'data audit', id: 'audit-table' },
          h('caption', { class: 'visually-hidden', text: t('audit.caption') }),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col', class: 'num', text: t('audit.col_seq') }),
            h('th', { scope: 'col', text: t('audit.col_time') }),
            h('th', { scope: 'col', text: t('audit.col_actor') }),
            h('th', { scope: 'col', text: t('audit.col_event') }),
            h('th', { scope: 'col', text: t('audit.col_detail') }))),
          h('tbody', {}, shown.map((e) => h('tr', {},
            h('td', { class: 'num', text: formatNumber(e.seq) }),
            h('td', {}, h('time', { datetime: e.time, text: formatTime(e.time) })),
            h('td', { text: e.actor }),
            h('td', {}, h('span', { text: eventName(e.event) }), h('br'), h('code', { class: 'event-code', text: e.event })),
            h('td', { class: 'detail' },
              detailList(e.detail),
              e.hash ? h('span', { class: 'hash', title: t('audit.hash'), text: `${t('audit.hash')}: ${e.hash.slice(0, 16)}…` }) : null)))))),
      match.length > shown.length ? h('div', { class: 'actions' }, h('button', {
        type: 'button', class: 'secondary', text: t('audit.more'),
        onclick: () => { view.shown += PAGE; drawTable(); },
      })) : null);
  };
  filter.addEventListener('input', () => { view.filter = filter.value; view.shown = PAGE; drawTable(); });
  put(clear(body), verdict,
    h('div', { class: 'field field-inline no-print' },
      h('label', { for: 'audit-filter', text: t('audit.filter') }), filter),
    h('p', { id: 'audit-filter-hint', class: 'hint no-print', text: t('audit.filter_hint') }),
    tableBox);
  drawTable();
}
