// The web UI's browser test (run by tests/browser/run.sh against a real
// local federation). Debian's Chromium, driven by playwright-core:
//   - logged out: only the sign-in form; the API answers 401;
//   - an analyst signs in with the keyboard, builds a query in the UI,
//     sees it wait for approval, a node approves it, the result arrives;
//   - the table shows exactly the numbers of GET .../result (every cell,
//     every total, withheld cells marked), the CSV download equals
//     GET .../result.csv and the JSON;
//   - a second query is rejected by a node: the UI says so and why;
//   - the language switch (lang attribute, texts), the print view;
//   - roles: an analyst sees no audit log (UI and API 403), an auditor
//     sees the audit log with the chain verified, cannot submit;
//   - axe-core on every page: no serious or critical violations;
//   - no Content-Security-Policy violation, no request leaves the
//     aggregator's origin, no script error, no missing text;
//   - screenshots at 1280x800 and 390x844, their paths printed.
// Output: "ok ..." / "FAIL ..." per check and "N passed, N failed".
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run tests/browser/run.sh)`);
  return v;
};
const fed = JSON.parse(fs.readFileSync(env('CC_FED_JSON'), 'utf8'));
const base = fed.aggregator_url;
const origin = new URL(base).origin;
const shotsDir = env('CC_SCREENSHOTS');
const nodeBin = env('CC_NODE_BIN');
const work = env('CC_WORK');
const webRoot = env('CC_WEB_ROOT');
const users = {
  analyst: { name: fed.web_user, password: fed.web_password },
  auditor: { name: env('CC_AUDITOR_USER'), password: env('CC_AUDITOR_PASSWORD') },
  admin: { name: env('CC_ADMIN_USER'), password: env('CC_ADMIN_PASSWORD') },
};
const axeSource = fs.readFileSync(path.join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');

let passed = 0;
let failed = 0;
const screenshots = [];

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${name}`);
    return true;
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}`);
    for (const line of String(e && e.stack ? e.stack : e).split('\n').slice(0, 12)) console.log(`     ${line}`);
    return false;
  }
}

// ---------------------------------------------------------------------------
// the browser

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  ignoreHTTPSErrors: true,  // the federation's own CA; TLS itself is real
  acceptDownloads: true,
  viewport: { width: 1280, height: 800 },
  locale: 'sv-SE',
  timezoneId: 'Europe/Stockholm',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });

// Everything the page does wrong, collected for the final checks.
const problems = { csp: [], pageErrors: [], consoleErrors: [], missingText: [], foreign: [] };
await context.addInitScript(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
});
context.on('request', (req) => {
  const u = req.url();
  if (!u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:') && u !== 'about:blank') {
    problems.foreign.push(u);
  }
});

function watch(page) {
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy/i.test(text)) problems.csp.push(text);
    else if (m.type() === 'warning' && text.startsWith('missing text')) problems.missingText.push(text);
    // The UI's own 401/403/404 probes of the test show as failed loads.
    else if (m.type() === 'error' && !/Failed to load resource/.test(text)) problems.consoleErrors.push(text);
  });
  return page;
}

const page = watch(context.pages()[0] || await context.newPage());
page.setDefaultTimeout(15000);

async function shot(name, { fullPage = true } = {}) {
  const file = path.join(shotsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  screenshots.push(file);
}

// The same page on a phone-sized screen (390x844): the first screen and
// the whole page; then back to 1280x800.
async function shotNarrow(name, scrollTo = null) {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(250);
  if (scrollTo) await page.locator(scrollTo).scrollIntoViewIfNeeded();
  await shot(`${name}-390`, { fullPage: false });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.waitForTimeout(100);
}

async function cspViolations() {
  return page.evaluate(() => window.__csp || []);
}

// Same-origin fetch from the page: the session cookie goes with it.
async function apiGet(p) {
  return page.evaluate(async (url) => {
    const r = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const text = await r.text();
    let body = null;
    try { body = JSON.parse(text); } catch { body = text; }
    return { status: r.status, body };
  }, `/api/v1${p}`);
}

async function axe(name) {
  await page.evaluate(axeSource);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ${n.failureSummary.split('\n').slice(0, 3).join(' / ')}`),
    }));
  });
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = res.filter((v) => !(v.impact === 'serious' || v.impact === 'critical'));
  if (minor.length) console.log(`     axe (${name}), minor: ${minor.map((v) => `${v.id} (${v.impact})`).join(', ')}`);
  assert.deepEqual(bad, [], `axe on ${name}: ${JSON.stringify(bad, null, 1)}`);
}

async function signIn(user, { keyboard = false } = {}) {
  await page.goto(`${base}/#/login`);
  await page.waitForSelector('#login-username');
  if (keyboard) {
    await page.fill('#login-username', '');
    await page.fill('#login-password', '');
    await page.focus('#login-username');
    await page.keyboard.type(user.name);
    await page.keyboard.press('Tab');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
  } else {
    await page.fill('#login-username', user.name);
    await page.fill('#login-password', user.password);
    await page.click('.login-form button[type=submit]');
  }
  await page.waitForSelector('#logout:not([hidden])');
}

async function signOut() {
  await page.click('#logout');
  await page.waitForSelector('#login-username');
}

async function nodeCmd(...args) {
  const { stdout } = await run(nodeBin, args, { timeout: 30000 });
  return stdout;
}

async function waitStatus(want, seconds) {
  await page.waitForFunction((w) => {
    const el = document.getElementById('query-status');
    return el && w.includes(el.dataset.status);
  }, want, { timeout: seconds * 1000, polling: 250 });
  return page.getAttribute('#query-status', 'data-status');
}

const text = (sel) => page.textContent(sel).then((s) => (s || '').trim());
const digitsOf = (s) => s.replace(/[\s\u00a0\u202f]/g, '');

// ---------------------------------------------------------------------------
// 0. the catalogues: the same keys in both languages, every key the code
//    and markup use is there

await check('message catalogues: sv and en have the same keys, every used key exists', async () => {
  const sv = JSON.parse(fs.readFileSync(path.join(webRoot, 'i18n/sv.json'), 'utf8'));
  const en = JSON.parse(fs.readFileSync(path.join(webRoot, 'i18n/en.json'), 'utf8'));
  assert.deepEqual(Object.keys(sv).sort(), Object.keys(en).sort());
  const files = [path.join(webRoot, 'index.html')];
  const walk = (d) => {
    for (const f of fs.readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(path.join(d, f.name));
      else if (f.name.endsWith('.js')) files.push(path.join(d, f.name));
    }
  };
  walk(path.join(webRoot, 'js'));
  const used = new Set();
  for (const f of files) {
    const src = fs.readFileSync(f, 'utf8');
    for (const m of src.matchAll(/\bt\(\s*'([a-z_]+\.[a-z_.]+)'/g)) used.add(m[1]);
    for (const m of src.matchAll(/data-i18n="([^"]+)"/g)) used.add(m[1]);
    for (const m of src.matchAll(/data-i18n-attr="([^"]+)"/g)) {
      for (const pair of m[1].split(';')) used.add(pair.split(':')[1]);
    }
  }
  const has = (k) => k in sv || `${k}_one` in sv;
  const absent = [...used].filter((k) => !has(k));
  assert.deepEqual(absent, [], `keys used but not in the catalogue: ${absent.join(', ')}`);
});

await check('markup: no inline script, no inline style, no style attribute', async () => {
  const html = fs.readFileSync(path.join(webRoot, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i);
  assert.doesNotMatch(html, /<style/i);
  assert.doesNotMatch(html, /\sstyle=/i);
  assert.doesNotMatch(html, /\son[a-z]+=/i);
});

// ---------------------------------------------------------------------------
// 1. logged out

await check('logged out: only the sign-in form, in Swedish, CSP header on the page', async () => {
  const res = await page.goto(`${base}/`);
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /style-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await page.waitForSelector('#login-username');
  assert.equal(await page.getAttribute('html', 'lang'), 'sv');
  assert.equal(await text('h1'), 'Logga in');
  assert.equal(await page.isVisible('#main-nav'), false);
  assert.equal(await page.isVisible('#logout'), false);
  assert.equal(await page.locator('label[for=login-username]').textContent(), 'Användarnamn');
});
await shot('01-login-1280');
await shotNarrow('01-login');
await check('axe: sign-in page', () => axe('sign-in'));

await check('keyboard: the first Tab reaches "skip to content", which moves focus to the page', async () => {
  await page.goto(`${base}/#/login`);
  await page.reload();
  await page.waitForSelector('#login-username');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Hoppa till innehållet');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  const next = await page.evaluate(() => document.activeElement.id);
  assert.equal(next, 'login-username');
});

await check('logged out: the API answers 401 to every user endpoint', async () => {
  for (const p of ['/me', '/federation', '/queries', '/audit', '/queries/00000000000000000000000000000000',
    '/queries/00000000000000000000000000000000/result', '/queries/00000000000000000000000000000000/result.csv']) {
    const r = await apiGet(p);
    assert.equal(r.status, 401, `${p}: ${r.status}`);
  }
});

await check('logged out: #/audit and #/new show the sign-in form, nothing else', async () => {
  for (const h of ['#/audit', '#/new', '#/queries']) {
    await page.goto(`${base}/${h}`);
    await page.waitForSelector('#login-username');
    assert.equal(await page.locator('#audit-table, #submit-query, #queries-table').count(), 0);
    assert.equal(await page.isVisible('#main-nav'), false);
  }
});

await check('wrong password: one message, no session', async () => {
  await page.goto(`${base}/#/login`);
  await page.fill('#login-username', users.analyst.name);
  await page.fill('#login-password', 'not-the-password');
  await page.click('.login-form button[type=submit]');
  await page.waitForSelector('.login-form .alert.error:not([hidden])');
  assert.equal(await text('.login-form .alert.error'), 'Fel användarnamn eller lösenord.');
  assert.equal((await apiGet('/me')).status, 401);
});

// ---------------------------------------------------------------------------
// 2. an analyst builds and submits a query

await check('analyst signs in with the keyboard only', async () => {
  await signIn(users.analyst, { keyboard: true });
  await page.waitForSelector('#submit-query');
  assert.equal(await text('h1'), 'Ny fråga');
  const cookies = await context.cookies(base);
  const c = cookies.find((x) => x.name === 'cc_session');
  assert.ok(c, 'no cc_session cookie');
  assert.equal(c.httpOnly, true);
  assert.equal(c.secure, true);
  assert.equal(c.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('cc_session')), false);
});

await check('analyst: no audit log in the menu', async () => {
  assert.equal(await page.isVisible('a[data-nav="audit"]'), false);
  assert.equal(await page.isVisible('a[data-nav="new"]'), true);
});

const title = 'Barn kända av skola, socialtjänst och BUP 2025';
let expectedDoc = null;
await check('query builder: groups from the federation, period, grid, sex, min_cell, JSON shown', async () => {
  const fedDoc = (await apiGet('/federation')).body;
  // One group per sector to start with, in the order school, social, health.
  const legends = await page.locator('.set-editor > legend').allTextContents();
  assert.deepEqual(legends, ['Grupp 1', 'Grupp 2', 'Grupp 3']);
  const checked = await page.evaluate(() => [...document.querySelectorAll('.set-editor')].map(
    (s) => [...s.querySelectorAll('input[id^=node-]:checked')].map((i) => i.value)));
  assert.deepEqual(checked, [['skola'], ['soc', 'soc2'], ['bup']]);
  // A node in one group cannot be picked in another.
  assert.equal(await page.isDisabled('.set-editor[data-set="0"] input[value="bup"]'), true);
  await page.fill('#title', title);
  // Rename the groups as a follow-up team would.
  const labels = ['skola', 'socialtjänst', 'bup'];
  for (let i = 0; i < 3; i++) {
    await page.locator(`.set-editor[data-set="${i}"] input[id^=label-]`).fill(labels[i]);
  }
  await page.fill('#from', '2025-01');
  await page.fill('#to', '2025-12');
  await page.check('#by-age');
  await page.check('#grid-0');
  await page.check('#by-sex');
  await page.fill('#min-cell', '5');
  assert.match(await text('#min-cell-hint'), /Antal från 1 till 4 visas inte/);
  assert.equal(await text('#summary-min-cell'), '5');
  await page.click('.json-details summary');
  const shown = JSON.parse(await text('#query-json'));
  expectedDoc = {
    title,
    period: { from: '2025-01', to: '2025-12' },
    sets: [
      { label: 'skola', nodes: ['skola'] },
      { label: 'socialtjänst', nodes: ['soc', 'soc2'] },
      { label: 'bup', nodes: ['bup'] },
    ],
    breakdown: ['age_band', 'sex'],
    min_cell: 5,
    age_bands: fedDoc.policy.age_band_grids[0],
  };
  assert.deepEqual(shown, expectedDoc);
  assert.equal(await text('#builder-problems'), 'Frågan är klar att skicka.');
});

await check('query builder: the JSON can be copied', async () => {
  await page.click('#copy-json');
  await page.waitForFunction(() => document.querySelector('.copy-status').textContent.length > 0);
  const status = await text('.copy-status');
  if (status === 'Kopierat.') {
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assert.deepEqual(JSON.parse(clip), expectedDoc);
  } else {
    // No clipboard: the text is selected for Ctrl+C.
    assert.equal(status, 'Texten är markerad: kopiera den med Ctrl+C.');
    assert.deepEqual(JSON.parse(await page.evaluate(() => window.getSelection().toString())), expectedDoc);
  }
});

await check('query builder: problems are listed and block sending', async () => {
  await page.fill('#title', '');
  await page.waitForSelector('#builder-problems.warning');
  assert.match(await text('#builder-problems'), /Skriv en rubrik\./);
  await page.fill('#min-cell', '2');
  assert.match(await text('#builder-problems'), /Minsta antal som visas måste vara ett heltal från 5 till 1/);
  await page.fill('#title', title);
  await page.fill('#min-cell', '5');
  await page.waitForSelector('#builder-problems.ok');
});
await shot('02-builder-1280');
await shotNarrow('02-builder');
await check('axe: query builder', () => axe('builder'));

let queryId = null;
await check('submit: the query page shows it waiting for every node', async () => {
  await page.click('#submit-query');
  await page.waitForURL(/#\/queries\/[0-9a-f]{32}$/, { timeout: 15000 });
  queryId = page.url().split('/').pop();
  await page.waitForSelector('#query-status');
  assert.equal(await text('h1'), title);
  assert.equal(await waitStatus(['awaiting_approval'], 10), 'awaiting_approval');
  assert.equal(await text('#query-status'), 'Väntar på godkännande');
  const rows = await page.locator('table.nodes tbody tr').count();
  assert.equal(rows, 4);
  const api = (await apiGet(`/queries/${queryId}`)).body;
  assert.deepEqual(api.query.sets.map((s) => s.label), ['skola', 'socialtjänst', 'bup']);
  assert.equal(api.status, 'awaiting_approval');
});
await shot('03-waiting-for-approval-1280');
await check('axe: query progress', () => axe('progress'));

await check('nodes approve (crosscount-node approve): the query runs and is released', async () => {
  // The node's worker takes the decision from its own queue of held queries.
  for (const id of Object.keys(fed.nodes)) {
    let done = false;
    for (let i = 0; i < 40 && !done; i++) {
      try {
        await nodeCmd('approve', '--dir', fed.nodes[id], queryId);
        done = true;
      } catch (e) {
        // Not yet offered to the node (its long poll): try again shortly.
        await new Promise((r) => setTimeout(r, 500));
        if (i === 39) throw e;
      }
    }
  }
  const st = await waitStatus(['released', 'failed', 'rejected'], 240);
  assert.equal(st, 'released', `status ${st}: ${await page.textContent('#main')}`);
  await page.waitForSelector('#result-table');
  await page.waitForSelector('#euler svg, #euler p');
});

let result = null;
await check('result: every cell of the table equals GET .../result', async () => {
  result = (await apiGet(`/queries/${queryId}/result`)).body;
  assert.equal(result.id, queryId);
  const cells = await page.evaluate(() => [...document.querySelectorAll('#result-table td[data-cell]')].map((td) => ({
    key: td.dataset.cell, suppressed: td.dataset.suppressed === 'true', text: td.textContent.trim(),
  })));
  assert.equal(cells.length, result.cells.length);
  const byKey = new Map(cells.map((c) => [c.key, c]));
  let withheld = 0;
  for (const c of result.cells) {
    const key = `${c.combination.join(' + ')}|${c.age_band ?? ''}|${c.sex ?? ''}`;
    const ui = byKey.get(key);
    assert.ok(ui, `no cell ${key} in the table`);
    assert.equal(ui.suppressed, c.suppressed, key);
    if (c.suppressed) {
      withheld += 1;
      assert.match(ui.text, /^×/, key);
      assert.match(ui.text, /skyddat värde/, key);
    } else {
      assert.equal(digitsOf(ui.text), String(c.count), key);
    }
  }
  const totals = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#result-table td[data-total]')]
    .map((td) => [td.dataset.total, td.dataset.suppressed === 'true' ? null : td.textContent.trim()])));
  for (const c of result.combination_totals) {
    const ui = totals[c.combination.join(' + ')];
    if (c.suppressed) assert.equal(ui, null);
    else assert.equal(digitsOf(ui), String(c.count));
  }
  const sets = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#set-totals td[data-set-total]')]
    .map((td) => [td.dataset.setTotal, td.dataset.suppressed === 'true' ? null : td.textContent.trim()])));
  for (const s of result.set_totals) {
    if (s.suppressed) assert.equal(sets[s.set], null);
    else assert.equal(digitsOf(sets[s.set]), String(s.count));
  }
  const protect = await text('#protect');
  assert.match(protect, /Värden under 5 visas inte/);
  assert.match(protect, new RegExp(`I tabellen är ${withheld} av ${result.cells.length} rutor skyddad`));
  console.log(`     ${result.cells.length} cells, ${withheld} withheld, set totals ${result.set_totals.map((s) => `${s.set}=${s.count ?? '×'}`).join(' ')}`);
});

await check('result: the Euler diagram and the bar chart are drawn (SVG with labels)', async () => {
  assert.equal(await page.locator('#euler svg circle').count(), 3);
  assert.equal(await page.locator('#euler svg[role=img]').count(), 1);
  const names = await page.locator('#euler svg text.set-name').allTextContents();
  assert.deepEqual(names.sort(), ['bup', 'skola', 'socialtjänst']);
  const bars = await page.locator('#bars svg rect.bar').count();
  assert.equal(bars, 3 * 2);
  // The chosen combination's bars carry its published counts.
  const labels = (await page.locator('#bars svg text.bar-label').allTextContents()).map(digitsOf);
  const chosen = await page.inputValue('#bar-combination');
  const combo = chosen.split('\u0000');
  const want = result.cells.filter((c) => c.combination.join('\u0000') === combo.join('\u0000'))
    .map((c) => (c.suppressed ? '×' : String(c.count)));
  assert.deepEqual(labels, want);
});
await shot('04-result-1280');
await shot('04-result-1280-viewport', { fullPage: false });
await shotNarrow('04-result');
await shotNarrow('04-result-table', '#result-table');
await check('axe: result', () => axe('result'));

await check('CSV download equals GET .../result.csv and the JSON cells', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  const file = path.join(work, 'download.csv');
  await download.saveAs(file);
  const got = fs.readFileSync(file);
  const direct = await page.evaluate(async (url) => {
    const r = await fetch(url, { credentials: 'same-origin' });
    return { status: r.status, type: r.headers.get('Content-Type'), bytes: [...new Uint8Array(await r.arrayBuffer())] };
  }, `/api/v1/queries/${queryId}/result.csv`);
  assert.equal(direct.status, 200);
  assert.match(direct.type, /^text\/csv/);
  assert.ok(Buffer.from(direct.bytes).equals(got), 'download differs from result.csv');
  const lines = got.toString('utf8').replace(/^\ufeff/, '').split('\r\n').filter(Boolean);
  assert.equal(lines[0], 'combination;age_band;sex;count;suppressed');
  assert.equal(lines.length - 1, result.cells.length);
  lines.slice(1).forEach((line, i) => {
    const c = result.cells[i];
    const f = line.split(';');
    assert.equal(f[0], c.combination.join(' + '));
    assert.equal(f[1], c.age_band ?? '');
    assert.equal(f[2], c.sex ?? '');
    assert.equal(f[3], c.suppressed ? '' : String(c.count));
    assert.equal(f[4], String(c.suppressed));
  });
  console.log(`     downloaded ${download.suggestedFilename()} (${got.length} bytes)`);
});

await check('print view: menu and buttons hidden, table and pictures kept', async () => {
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.isVisible('#main-nav'), false);
  assert.equal(await page.isVisible('#download-csv'), false);
  assert.equal(await page.isVisible('#result-table'), true);
  assert.equal(await page.isVisible('#euler svg'), true);
  assert.equal(await page.isVisible('.print-only'), true);
  await shot('05-result-print');
  await page.emulateMedia({ media: 'screen' });
});

await check('language switch: English texts, lang="en", the same numbers', async () => {
  await page.click('#lang-switch');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await page.waitForSelector('#result-table');
  assert.equal(await text('#result-heading'), 'Result');
  assert.equal(await text('#lang-switch'), 'Svenska');
  assert.equal(await page.getAttribute('#lang-switch', 'lang'), 'sv');
  assert.equal(await text('#query-status'), 'Ready');
  assert.equal(await text('a[data-nav="new"]'), 'New question');
  const heads = await page.locator('#result-table thead th').allTextContents();
  assert.ok(heads.includes('Girls') && heads.includes('Boys') && heads.includes('Total'), heads.join('|'));
  assert.match(await text('#protect'), /Counts below 5 are not shown/);
  const firstPublished = result.cells.find((c) => !c.suppressed);
  const key = `${firstPublished.combination.join(' + ')}|${firstPublished.age_band}|${firstPublished.sex}`;
  assert.equal(digitsOf(await page.locator(`td[data-cell="${key}"]`).textContent()).replace(/,/g, ''), String(firstPublished.count));
});
await shot('06-result-english-1280');
await check('axe: result (English)', () => axe('result, English'));

await check('narrow screen (390x844): no sideways scrolling of the page', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
});
await shot('07-result-english-390');
await check('back to Swedish', async () => {
  await page.click('#lang-switch');
  await page.waitForFunction(() => document.documentElement.lang === 'sv');
  assert.equal(await text('#result-heading'), 'Resultat');
});
await check('narrow screen: the builder fits and every control is reachable', async () => {
  await page.goto(`${base}/#/new`);
  await page.waitForSelector('#submit-query');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
});
await shot('08-builder-390');
await check('axe: builder on a narrow screen', () => axe('builder, narrow'));
await page.setViewportSize({ width: 1280, height: 800 });

// ---------------------------------------------------------------------------
// 3. a query a node rejects

let rejectedId = null;
await check('a node rejects a query: the UI says it was rejected and why', async () => {
  await page.goto(`${base}/#/new`);
  await page.waitForSelector('#submit-query');
  await page.fill('#title', 'Frånvaro och BUP');
  // Remove group 2 (social services): two groups left.
  await page.click('.set-editor[data-set="1"] .link-button.danger');
  await page.fill('#from', '2025-01');
  await page.fill('#to', '2025-06');
  await page.uncheck('#by-sex');
  await page.waitForSelector('#builder-problems.ok');
  await page.click('#submit-query');
  await page.waitForURL(/#\/queries\/[0-9a-f]{32}$/, { timeout: 15000 });
  rejectedId = page.url().split('/').pop();
  assert.notEqual(rejectedId, queryId);
  const why = 'Frågan ryms inte i vårt uppdrag just nu';
  let done = false;
  for (let i = 0; i < 40 && !done; i++) {
    try {
      await nodeCmd('reject', '--dir', fed.nodes.bup, '--why', why, rejectedId);
      done = true;
    } catch (e) {
      await new Promise((r) => setTimeout(r, 500));
      if (i === 39) throw e;
    }
  }
  assert.equal(await waitStatus(['released', 'failed', 'rejected'], 60), 'rejected');
  await page.waitForSelector('#query-reason');
  const msg = await text('#query-reason');
  assert.match(msg, /Frågan avslogs/);
  assert.match(msg, /bup/);
  assert.match(msg, new RegExp(why));
  assert.equal(await page.getAttribute('#query-reason', 'role'), 'alert');
  assert.equal(await page.locator('#result-table').count(), 0);
  const api = (await apiGet(`/queries/${rejectedId}/result`));
  assert.equal(api.status, 409);
});
await shot('09-rejected-1280');
await check('axe: rejected query', () => axe('rejected'));

await check('my queries: both queries, newest first, status and date', async () => {
  await page.click('a[data-nav="queries"]');
  await page.waitForSelector('#queries-table');
  const rows = await page.evaluate(() => [...document.querySelectorAll('#queries-table tbody tr')].map((tr) => ({
    id: tr.dataset.query, cells: [...tr.children].map((c) => c.textContent.trim()),
  })));
  assert.deepEqual(rows.map((r) => r.id), [rejectedId, queryId]);
  assert.equal(rows[0].cells[1], 'Avslogs');
  assert.equal(rows[1].cells[0], title);
  assert.equal(rows[1].cells[1], 'Klar');
  assert.match(rows[1].cells[2], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
});
await shot('10-my-queries-1280');
await check('axe: my queries', () => axe('my queries'));

await check('analyst: #/audit says no access, the API answers 403', async () => {
  await page.goto(`${base}/#/audit`);
  await page.waitForSelector('h1');
  await page.waitForFunction(() => document.querySelector('h1').textContent === 'Ingen behörighet');
  assert.equal(await page.locator('#audit-table').count(), 0);
  assert.equal((await apiGet('/audit')).status, 403);
});

await check('signing out ends the session (the API answers 401 after)', async () => {
  await signOut();
  assert.equal((await apiGet('/me')).status, 401);
  assert.equal((await apiGet(`/queries/${queryId}/result`)).status, 401);
  assert.equal(await page.isVisible('#main-nav'), false);
});

// ---------------------------------------------------------------------------
// 4. the auditor

await check('auditor: audit log with the chain verified, as GET /api/v1/audit says', async () => {
  await signIn(users.auditor);
  assert.equal(await page.isVisible('a[data-nav="audit"]'), true);
  assert.equal(await page.isVisible('a[data-nav="new"]'), false);
  await page.click('a[data-nav="audit"]');
  await page.waitForSelector('#audit-table');
  const api = (await apiGet('/audit')).body;
  assert.equal(api.verified, true);
  assert.equal(await page.getAttribute('#audit-verdict', 'data-verified'), 'true');
  assert.match(await text('#audit-verdict'), /Kedjan är obruten/);
  const shownRows = await page.locator('#audit-table tbody tr').count();
  assert.equal(shownRows, Math.min(100, api.entries.length));
  const body = await text('#audit-table');
  assert.match(body, /Resultat utlämnat/);
  assert.ok(body.includes(queryId), 'the released query is not in the log');
  await page.fill('#audit-filter', rejectedId);
  const filtered = await page.locator('#audit-table tbody tr').count();
  assert.ok(filtered >= 2 && filtered < shownRows, `filter left ${filtered} rows`);
  await page.fill('#audit-filter', '');
});
await shot('11-audit-1280');
await shotNarrow('11-audit');
await check('axe: audit log', () => axe('audit'));

await check('auditor: sees every query and its result, cannot submit', async () => {
  await page.click('a[data-nav="queries"]');
  await page.waitForSelector('#queries-table');
  assert.equal(await text('h1'), 'Alla frågor');
  assert.equal(await page.locator('#queries-table tbody tr').count(), 2);
  await page.goto(`${base}/#/new`);
  await page.waitForFunction(() => document.querySelector('h1') && document.querySelector('h1').textContent === 'Ingen behörighet');
  const r = await page.evaluate(async () => {
    const res = await fetch('/api/v1/queries', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('cc-csrf') || '' },
      body: JSON.stringify({ title: 'x', period: { from: '2025-01', to: '2025-12' }, sets: [{ label: 'a', nodes: ['bup'] }] }),
    });
    return res.status;
  });
  assert.equal(r, 403);
  await page.goto(`${base}/#/queries/${queryId}`);
  await page.waitForSelector('#result-table');
});
await shot('12-auditor-result-1280', { fullPage: false });

await check('state changes need the CSRF header even with the session cookie', async () => {
  const status = await page.evaluate(async () => {
    const res = await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' });
    return res.status;
  });
  assert.equal(status, 403);
  assert.equal((await apiGet('/me')).status, 200);
  await signOut();
});

await check('admin: both the builder and the audit log', async () => {
  await signIn(users.admin);
  assert.equal(await page.isVisible('a[data-nav="audit"]'), true);
  assert.equal(await page.isVisible('a[data-nav="new"]'), true);
  await signOut();
});

// ---------------------------------------------------------------------------
// 5. what happened along the way

await check('no Content-Security-Policy violation', async () => {
  const inPage = await cspViolations();
  assert.deepEqual([...problems.csp, ...inPage], []);
});
await check('no request left the aggregator (no CDN, no external asset)', async () => {
  assert.deepEqual(problems.foreign, []);
});
await check('no script error, no missing text', async () => {
  assert.deepEqual(problems.pageErrors, []);
  assert.deepEqual(problems.consoleErrors, []);
  assert.deepEqual(problems.missingText, []);
});

await context.close();
fs.rmSync(userDataDir, { recursive: true, force: true });

console.log('screenshots:');
for (const s of screenshots) console.log(`  ${s}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
