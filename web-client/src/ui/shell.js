// The frame around every page: skip link, header with language choice, <main>, footer.
import { forgetOnLogout } from '../editor/local.js';
import { h } from './dom.js';
import { mountAnnouncer } from './announce.js';
import { t, lang, setLang, LANGUAGES } from '../i18n.js';
import { post, put } from '../protocol/api.js';

export function renderShell({ me, navigate, onLanguageChange }) {
  const app = document.getElementById('app');
  const main = h('main', { id: 'main', tabindex: '-1' });
  const select = h('select', { id: 'lang-select', onchange: async (e) => {
    setLang(e.target.value);
    if (me.role === 'teacher') await put('/me/lang', { lang: e.target.value }).catch(() => {});
    onLanguageChange(e.target.value);
  } }, LANGUAGES.map((code) => h('option', { value: code, selected: code === lang() }, t(`lang.${code}`))));

  const nav = me.role === 'teacher'
    ? h('nav', { 'aria-label': t('nav.label') }, h('ul', {},
      h('li', {}, h('a', { href: '/teacher', 'data-link': true }, t('nav.classes'))),
      h('li', {}, h('a', { href: '/profile', 'data-link': true }, t('nav.profile'))),
      h('li', {}, h('button', { type: 'button', class: 'link-button', onclick: async () => {
        await post('/logout').catch(() => {});
        await forgetOnLogout();
        navigate('/login');
      } }, t('nav.logout')))))
    : me.role === 'pupil' || me.role === 'remote_pupil'
      ? h('nav', { 'aria-label': t('nav.label') }, h('ul', {},
        h('li', {}, h('a', { href: '/lesson', 'data-link': true }, t('nav.lesson'))),
        h('li', {}, h('a', { href: '/profile', 'data-link': true }, t('nav.profile')))))
      : null;

  app.replaceChildren(
    h('a', { href: '#main', class: 'skip-link' }, t('nav.skip')),
    h('header', { class: 'site-header' },
      h('a', { href: '/', class: 'brand' }, t('app.name')),
      nav,
      h('div', { class: 'lang' }, h('label', { for: 'lang-select' }, t('lang.label')), select)),
    main,
    h('footer', { class: 'site-footer' }, h('a', { href: '/install' }, t('footer.install')), ' · ', t('footer.privacy')),
  );
  mountAnnouncer(app);
  return main;
}

/** The page heading; focusable so the router can move focus to it. */
export function heading(text) {
  return h('h1', { tabindex: '-1' }, text);
}
