// crosscount web UI: the shell (header, navigation, language switch,
// signing in and out) and a hash router over the views.
import * as api from './api.js';
import { h, clear, announce, put } from './dom.js';
import { t, initLang, setLang, otherLang, applyTranslations } from './i18n.js';
import { renderLogin } from './views/login.js';
import { renderBuilder } from './views/builder.js';
import { renderQueries } from './views/queries.js';
import { renderQuery } from './views/query.js';
import { renderAudit } from './views/audit.js';

const state = { user: null, cleanup: null, lastRoute: null };

export const canSubmit = (user) => user && (user.role === 'analyst' || user.role === 'admin');
export const canAudit = (user) => user && (user.role === 'auditor' || user.role === 'admin');

function parseRoute() {
  const hash = window.location.hash.replace(/^#/, '') || '/';
  const parts = hash.split('/').filter(Boolean);
  if (parts.length === 0) return { name: 'home' };
  if (parts[0] === 'login') return { name: 'login' };
  if (parts[0] === 'new') return { name: 'new' };
  if (parts[0] === 'audit') return { name: 'audit' };
  if (parts[0] === 'queries' && parts.length === 1) return { name: 'queries' };
  if (parts[0] === 'queries' && parts.length === 2 && /^[0-9a-f]{32}$/.test(parts[1])) {
    return { name: 'query', id: parts[1] };
  }
  return { name: 'notfound' };
}

export function navigate(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function updateShell() {
  const nav = document.getElementById('main-nav');
  const who = document.getElementById('who');
  const logout = document.getElementById('logout');
  const signedIn = Boolean(state.user);
  nav.hidden = !signedIn;
  who.hidden = !signedIn;
  logout.hidden = !signedIn;
  if (signedIn) {
    put(clear(who),
      h('span', { class: 'who-name', text: state.user.username }),
      ' ',
      h('span', { class: 'who-role', text: t(`role.${state.user.role}`) }),
    );
    for (const li of nav.querySelectorAll('[data-role]')) {
      li.hidden = li.dataset.role === 'analyst' ? !canSubmit(state.user) : !canAudit(state.user);
    }
    const queriesLink = nav.querySelector('[data-nav="queries"]');
    queriesLink.textContent = t(canAudit(state.user) ? 'nav.all_queries' : 'nav.queries');
  }
  const current = parseRoute().name;
  for (const a of nav.querySelectorAll('a[data-nav]')) {
    const on = a.dataset.nav === current || (a.dataset.nav === 'queries' && current === 'query');
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function forbidden(main) {
  put(main,
    h('h1', { tabindex: '-1', text: t('error.forbidden_title') }),
    h('p', { text: t('error.forbidden_text') }),
  );
  document.title = `${t('error.forbidden_title')} – crosscount`;
}

async function route() {
  const r = parseRoute();
  const main = document.getElementById('main');
  if (state.cleanup) {
    state.cleanup();
    state.cleanup = null;
  }
  clear(main);
  if (!state.user) {
    state.cleanup = renderLogin(main, { onLogin: signedIn });
    updateShell();
    focusHeading(main, state.lastRoute !== null && state.lastRoute !== 'login');
    state.lastRoute = 'login';
    return;
  }
  if (r.name === 'login' || r.name === 'home') {
    navigate(canSubmit(state.user) ? '#/new' : '#/queries');
    return;
  }
  const ctx = { user: state.user, navigate, canSubmit: canSubmit(state.user), canAudit: canAudit(state.user) };
  updateShell();
  switch (r.name) {
    case 'new':
      if (!ctx.canSubmit) forbidden(main);
      else state.cleanup = renderBuilder(main, ctx);
      break;
    case 'queries':
      state.cleanup = renderQueries(main, ctx);
      break;
    case 'query':
      state.cleanup = renderQuery(main, ctx, r.id);
      break;
    case 'audit':
      if (!ctx.canAudit) forbidden(main);
      else state.cleanup = renderAudit(main, ctx);
      break;
    default:
      put(main, h('h1', { tabindex: '-1', text: t('error.notfound_title') }),
        h('p', {}, h('a', { href: '#/queries', text: t('nav.queries') })));
      document.title = `${t('error.notfound_title')} – crosscount`;
  }
  const key = r.name + (r.id || '');
  // Not on the first page after loading: there the skip link comes first.
  focusHeading(main, state.lastRoute !== null && key !== state.lastRoute);
  state.lastRoute = key;
}

// Move focus to the new page's heading so screen readers hear where they
// are; not on a re-render of the same page (language switch, polling).
function focusHeading(main, moved) {
  if (!moved) return;
  const h1 = main.querySelector('h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: false });
  }
}

function signedIn(user) {
  state.user = user;
  announce(t('login.signed_in', { name: user.username }));
  navigate(canSubmit(user) ? '#/new' : '#/queries');
}

async function signOut() {
  try {
    await api.logout();
  } catch {
    // the session is gone either way on this side
  }
  state.user = null;
  announce(t('login.signed_out'));
  navigate('#/login');
}

function sessionLost() {
  if (!state.user) return;
  state.user = null;
  api.forgetSession();
  announce(t('login.session_lost'));
  navigate('#/login');
}

async function boot() {
  await initLang();
  document.getElementById('lang-switch').addEventListener('click', async () => {
    await setLang(otherLang());
    const sw = document.getElementById('lang-switch');
    sw.setAttribute('lang', otherLang());
    updateShell();
    // Views keep their state in module variables, so a re-render keeps
    // what the user typed.
    state.lastRoute = parseRoute().name + (parseRoute().id || '');
    route();
    announce(t('app.language_changed'));
  });
  document.getElementById('lang-switch').setAttribute('lang', otherLang());
  document.getElementById('logout').addEventListener('click', signOut);
  // The skip link must not touch the hash: the hash is the router's.
  document.querySelector('.skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById('main').focus();
  });
  api.setUnauthenticatedHandler(sessionLost);
  if (api.hasCsrf()) {
    try {
      state.user = await api.me();
    } catch {
      state.user = null;
      api.forgetSession();
    }
  }
  applyTranslations(document);
  window.addEventListener('hashchange', route);
  route();
}

boot().catch((e) => {
  const main = document.getElementById('main');
  put(clear(main), h('p', { class: 'alert error', role: 'alert', text: `crosscount: ${e.message}` }));
});
