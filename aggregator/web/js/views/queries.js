// My queries (an auditor or admin sees everyone's): title, status, date.
import * as api from '../api.js';
import { h, clear, put } from '../dom.js';
import { t, formatTime } from '../i18n.js';
import { statusName, TERMINAL } from '../labels.js';

const POLL_MS = 5000;

export function renderQueries(main, ctx) {
  const all = ctx.canAudit;
  const titleKey = all ? 'queries.title_all' : 'queries.title';
  document.title = `${t(titleKey)} – crosscount`;
  const body = h('div', {}, h('p', { class: 'loading', text: t('app.loading') }));
  put(main,
    h('h1', { text: t(titleKey) }),
    h('p', { class: 'lead', text: t(all ? 'queries.intro_all' : 'queries.intro') }),
    ctx.canSubmit ? h('p', { class: 'no-print' }, h('a', { class: 'button primary', href: '#/new', text: t('queries.new') })) : null,
    body,
  );
  let alive = true;
  let timer = null;
  const load = async () => {
    timer = null;
    let data;
    try {
      data = await api.listQueries();
    } catch (e) {
      if (!alive || e.status === 401) return;
      put(clear(body), h('p', { class: 'alert error', role: 'alert', text: t('error.generic', { message: e.message }) }));
      return;
    }
    if (!alive) return;
    draw(body, data.queries || [], all);
    // Refresh while something is still under way.
    if ((data.queries || []).some((q) => !TERMINAL.has(q.status))) timer = window.setTimeout(load, POLL_MS);
  };
  load();
  return () => {
    alive = false;
    if (timer) window.clearTimeout(timer);
  };
}

function draw(body, queries, all) {
  clear(body);
  if (queries.length === 0) {
    put(body, h('p', { class: 'empty', text: t('queries.empty') }));
    return;
  }
  put(body, h('div', { class: 'table-wrap' },
    h('table', { class: 'data queries', id: 'queries-table' },
      h('caption', { text: t('queries.caption', { count: queries.length }) }),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', text: t('queries.col_title') }),
        h('th', { scope: 'col', text: t('queries.col_status') }),
        h('th', { scope: 'col', text: t('queries.col_submitted') }),
        all ? h('th', { scope: 'col', text: t('queries.col_owner') }) : null)),
      h('tbody', {}, queries.map((q) => h('tr', { 'data-query': q.id },
        h('th', { scope: 'row' }, h('a', { href: `#/queries/${q.id}`, text: q.title })),
        h('td', {}, h('span', { class: `badge status-${q.status}`, text: statusName(q.status) })),
        h('td', {}, h('time', { datetime: q.submitted, text: formatTime(q.submitted) })),
        all ? h('td', { text: q.owner }) : null))))));
}
