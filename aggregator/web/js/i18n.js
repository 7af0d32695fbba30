// The message catalogues (i18n/sv.json, i18n/en.json) and the one function
// that turns a key into text. Swedish is the default; the choice is kept
// in localStorage. Every text the UI shows comes from a catalogue: markup
// names keys with data-i18n (text) and data-i18n-attr ("attr:key;attr:key").

const LANGS = ['sv', 'en'];
const LOCALES = { sv: 'sv-SE', en: 'en-GB' };
const catalogues = {};
let lang = 'sv';

export function currentLang() {
  return lang;
}

export function otherLang() {
  return lang === 'sv' ? 'en' : 'sv';
}

async function loadCatalogue(l) {
  if (!catalogues[l]) {
    const res = await fetch(`i18n/${l}.json`, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`i18n/${l}.json: HTTP ${res.status}`);
    catalogues[l] = await res.json();
  }
  return catalogues[l];
}

export async function initLang() {
  let saved = null;
  try {
    saved = localStorage.getItem('cc-lang');
  } catch {
    saved = null;
  }
  await setLang(LANGS.includes(saved) ? saved : 'sv');
}

export async function setLang(l) {
  if (!LANGS.includes(l)) return;
  await loadCatalogue(l);
  lang = l;
  try {
    localStorage.setItem('cc-lang', l);
  } catch {
    // private mode: the choice lasts for this page only
  }
  document.documentElement.lang = l;
  applyTranslations(document);
}

// t('key', {name: 'x'}) with {name} placeholders; with a numeric `count`
// the key_one / key_other form is picked by the language's plural rules.
export function t(key, params = {}) {
  const cat = catalogues[lang] || {};
  let text;
  if (typeof params.count === 'number') {
    const form = new Intl.PluralRules(LOCALES[lang]).select(params.count);
    text = cat[`${key}_${form}`] ?? cat[`${key}_other`];
  }
  if (text === undefined) text = cat[key];
  if (text === undefined) {
    console.warn(`missing text ${lang}:${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (m, name) => {
    if (!(name in params)) return m;
    const v = params[name];
    return typeof v === 'number' ? formatNumber(v) : String(v);
  });
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(catalogues[lang] || {}, key);
}

export function applyTranslations(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n, paramsOf(el));
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim(), paramsOf(el)));
    }
  }
}

function paramsOf(el) {
  if (!el.dataset.i18nParams) return {};
  try {
    return JSON.parse(el.dataset.i18nParams);
  } catch {
    return {};
  }
}

export function formatNumber(n) {
  return new Intl.NumberFormat(LOCALES[lang]).format(n);
}

// RFC 3339 UTC from the API, shown in Swedish time as "2026-11-22 13:05".
export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(LOCALES[lang], {
    year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Stockholm',
  }).format(d);
}

// "2025-01" as "januari 2025" / "January 2025".
export function formatMonth(ym) {
  const m = /^(\d{4})-(\d{2})$/.exec(ym || '');
  if (!m) return ym || '';
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
  return new Intl.DateTimeFormat(LOCALES[lang], { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(d);
}
