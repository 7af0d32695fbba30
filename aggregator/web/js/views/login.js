// Signing in: user name and password, one error text for both.
import * as api from '../api.js';
import { h, put } from '../dom.js';
import { t } from '../i18n.js';

const draft = { username: '' };

export function renderLogin(main, { onLogin }) {
  document.title = `${t('login.title')} – crosscount`;
  const error = h('div', { class: 'alert error', role: 'alert', hidden: true });
  const user = h('input', {
    id: 'login-username', name: 'username', type: 'text', autocomplete: 'username',
    required: true, value: draft.username, autocapitalize: 'none', spellcheck: 'false',
    oninput: (e) => { draft.username = e.target.value; },
  });
  const pass = h('input', {
    id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary', text: t('login.submit') });
  const form = h('form', { class: 'login-form', novalidate: true },
    error,
    h('div', { class: 'field' }, h('label', { for: 'login-username', text: t('login.username') }), user),
    h('div', { class: 'field' }, h('label', { for: 'login-password', text: t('login.password') }), pass),
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    if (!user.value || !pass.value) {
      error.textContent = t('login.missing');
      error.hidden = false;
      (user.value ? pass : user).focus();
      return;
    }
    submit.disabled = true;
    try {
      const who = await api.login(user.value, pass.value);
      pass.value = '';
      onLogin(who);
    } catch (err) {
      pass.value = '';
      if (err.status === 401) error.textContent = t('login.wrong');
      else if (err.status === 429) error.textContent = t('login.too_many');
      else error.textContent = t('error.generic', { message: err.message });
      error.hidden = false;
      pass.focus();
    } finally {
      submit.disabled = false;
    }
  });
  put(main,
    h('section', { class: 'login card' },
      h('h1', { text: t('login.title') }),
      h('p', { class: 'lead', text: t('login.intro') }),
      form,
    ),
  );
  return null;
}
