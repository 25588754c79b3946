// Every visible string comes from i18n/<lang>.json. The choice is remembered in the browser
// (and, for teachers, on the box).
import nb from './i18n/nb.json';
import nn from './i18n/nn.json';
import en from './i18n/en.json';
import se from './i18n/se.json';

const dictionaries = { nb, nn, en, se };
export const LANGUAGES = ['nb', 'nn', 'se', 'en'];
const STORAGE_KEY = 'tavla.lang';

let current = LANGUAGES.includes(localStorage.getItem(STORAGE_KEY))
  ? localStorage.getItem(STORAGE_KEY)
  : 'nb';

export function lang() {
  return current;
}

export function setLang(next) {
  if (!LANGUAGES.includes(next)) return;
  current = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}

/**
 * The string for `key`, with `{name}` placeholders filled from `vars`. When `vars` carries a
 * number (`count` or `n`), the language's plural rule (Intl.PluralRules: CLDR's, so one/two/
 * other for Northern Sami) picks `key#one`, `key#two` … if the language file has that form;
 * the plain key is the `other` form.
 */
export function t(key, vars = {}) {
  const dictionary = dictionaries[current];
  const number = typeof vars.count === 'number' ? vars.count : typeof vars.n === 'number' ? vars.n : null;
  const form = number === null ? null : dictionary[`${key}#${pluralRules().select(number)}`];
  const text = form ?? dictionary[key] ?? dictionaries.nb[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

let rules = null;
function pluralRules() {
  if (rules?.resolvedOptions().locale !== current) rules = new Intl.PluralRules(current);
  return rules;
}

/**
 * Why a connection was closed for good, in plain words: the close codes that end access
 * (docs/PROTOCOL.md), or `fallback` for any other.
 */
export function closedText(code, fallback = 'doc.closed') {
  const keys = { 4001: 'pupil.ended', 4002: 'pupil.removed', 4004: 'access.logged_out', 4005: 'access.card_reissued', 4006: 'access.not_yours' };
  return t(keys[code] ?? fallback);
}

/** The message for an API error code, falling back to a general one. */
export function errorText(failure) {
  const key = `error.${failure?.code ?? 'internal'}`;
  return dictionaries[current][key] ? t(key) : t('error.internal');
}

setLang(current);
