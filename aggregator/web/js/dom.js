// A tiny element builder: text always goes in as text (never as HTML),
// so titles, labels and server messages cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') {
      el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    } else if (k === 'text') {
      el.textContent = v;
    } else if (k === 'dataset') {
      for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = dv;
    } else if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'style') {
      throw new Error('no style attributes (CSP): use a class');
    } else if (!svg && (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected' || k === 'hidden')) {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let idSeq = 0;
export function uid(prefix) {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}

// Announce a short message to screen readers (the polite live region).
export function announce(text) {
  const el = document.getElementById('announcer');
  if (!el) return;
  el.textContent = '';
  window.setTimeout(() => {
    el.textContent = text;
  }, 50);
}

// Element.append turns null into the text "null": this skips it (and
// flattens arrays) like h() does.
export function put(el, ...children) {
  append(el, children);
  return el;
}
