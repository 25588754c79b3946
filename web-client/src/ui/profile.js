// A person's own settings: language, text size, high contrast, reduced motion, a
// dyslexia-friendly font, read aloud, and for a pupil "I am at home today". A pupil on the
// class list and a teacher keep them on the box (they follow them to any device); a guest
// keeps them in this browser.
import { h, nextId } from './dom.js';
import { heading } from './shell.js';
import { announce } from './announce.js';
import { t, lang, setLang, LANGUAGES } from '../i18n.js';
import { get, put } from '../protocol/api.js';
import { PROFILE_KEY as KEPT_KEY } from '../editor/local.js';
import { readStored } from '../stored.js';

export const TEXT_SIZES = ['normal', 'large', 'largest'];
const DEFAULTS = {
  lang: null, text_size: 'normal', high_contrast: false, reduced_motion: false,
  dyslexia_font: false, read_aloud: false, at_home_today: false,
};
/** The switches, in the order the page shows them (each has `profile.<name>` and a hint). */
const SWITCHES = ['high_contrast', 'reduced_motion', 'dyslexia_font', 'read_aloud', 'at_home_today'];

const isTeacher = (me) => me?.role === 'teacher';
const onBox = (me) => Boolean(me?.pupil?.rostered) || isTeacher(me);
const isPupil = (me) => me?.role === 'pupil' || me?.role === 'remote_pupil';

const keptHere = () => readStored(KEPT_KEY, null);

/** The settings that hold for `me` now: the box's for a pupil on the class list, else this browser's. */
export function profileOf(me) {
  if (isTeacher(me)) return { ...DEFAULTS, ...me.teacher.profile };
  if (!isPupil(me)) return DEFAULTS;
  return { ...DEFAULTS, ...(onBox(me) ? me.profile : keptHere()) };
}

/**
 * Applies `settings` to the page: classes on <html> that style.css follows, and the language.
 * Returns whether the language changed (the page is then drawn again).
 */
export function applyProfile(settings) {
  const root = document.documentElement.classList;
  for (const size of TEXT_SIZES) root.toggle(`text-${size}`, settings.text_size === size && size !== 'normal');
  root.toggle('high-contrast', Boolean(settings.high_contrast));
  root.toggle('reduced-motion', Boolean(settings.reduced_motion));
  root.toggle('dyslexia-font', Boolean(settings.dyslexia_font));
  root.toggle('read-aloud', Boolean(settings.read_aloud));
  if (settings.lang && settings.lang !== lang()) {
    setLang(settings.lang);
    return true;
  }
  return false;
}

/** Saves `settings` where they belong for `me` (the box or this browser); resolves with them. */
export async function saveProfile(me, settings) {
  const next = { ...profileOf(me), ...settings };
  if (onBox(me)) {
    const saved = await put('/me/profile', next);
    if (isTeacher(me)) me.teacher.profile = saved;
    else me.profile = saved;
    return saved;
  }
  localStorage.setItem(KEPT_KEY, JSON.stringify(next));
  return next;
}

/** The page `/profile`: the pupil's settings as a form; each change shows at once, Save keeps it. */
export async function profileView({ main, me, navigate, setTitle }) {
  setTitle(t('profile.title'));
  if (onBox(me) && !isTeacher(me)) {
    me.profile = await get('/me/profile').catch(() => me.profile);
  }
  const current = profileOf(me);
  const status = h('p', { role: 'status', class: 'profile-status' });

  const langId = nextId('profile-lang');
  const langSelect = h('select', { id: langId, name: 'lang' },
    LANGUAGES.map((code) => h('option', { value: code, lang: code, selected: code === (current.lang ?? lang()) }, t(`lang.${code}`))));

  // Text size as three pressed-or-not buttons: chosen with Tab and Space like everything else.
  let textSize = current.text_size;
  const sizeButtons = TEXT_SIZES.map((size) => h('button', {
    type: 'button', 'aria-pressed': String(size === textSize), 'data-size': size,
    onclick: () => {
      textSize = size;
      for (const b of sizeButtons) b.setAttribute('aria-pressed', String(b.dataset.size === size));
      applyProfile({ ...read(), lang: null });
    },
  }, t(`profile.text_size.${size}`)));
  const sizesLabel = nextId('profile-sizes');
  const sizes = h('div', { class: 'profile-sizes', role: 'group', 'aria-labelledby': sizesLabel },
    h('p', { id: sizesLabel, class: 'group-label' }, t('profile.text_size')), sizeButtons);

  const speech = 'speechSynthesis' in window;
  // "At home today" is the pupil's to say.
  const switches = SWITCHES.filter((name) => name !== 'at_home_today' || !isTeacher(me)).map((name) => {
    const id = nextId(`profile-${name}`);
    const hintId = `${id}-hint`;
    const unavailable = name === 'read_aloud' && !speech;
    return h('div', { class: 'choice' },
      h('input', { type: 'checkbox', id, name, checked: current[name], disabled: unavailable, 'aria-describedby': hintId }),
      h('label', { for: id }, t(`profile.${name}`)),
      h('p', { id: hintId, class: 'hint' }, t(unavailable ? 'profile.read_aloud.unavailable' : `profile.${name}.hint`)));
  });

  const form = h('form', { class: 'profile-form' },
    h('div', { class: 'field' }, h('label', { for: langId }, t('profile.lang')), langSelect),
    sizes,
    h('fieldset', {}, h('legend', {}, t('profile.reading')), switches),
    h('p', { class: 'hint' }, t(isTeacher(me) ? 'profile.kept_teacher' : onBox(me) ? 'profile.kept_on_box' : 'profile.kept_here')),
    h('button', { type: 'submit', class: 'primary' }, t('profile.save')),
    status);

  const read = () => {
    const data = new FormData(form);
    return {
      lang: data.get('lang'),
      text_size: textSize,
      ...Object.fromEntries(SWITCHES.map((name) => [name, data.get(name) === 'on'])),
    };
  };
  // Size, contrast, motion and font show at once, so the pupil sees what they choose.
  form.addEventListener('change', (event) => {
    if (event.target.name !== 'lang') applyProfile({ ...read(), lang: null });
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const saved = await saveProfile(me, read());
      if (applyProfile(saved)) {
        // A new language: the page is drawn again in it, and says it was saved.
        await navigate('/profile', { replace: true });
        const shown = document.querySelector('.profile-status');
        if (shown) shown.textContent = t('profile.saved');
        announce(t('profile.saved'));
        return;
      }
      status.textContent = t('profile.saved');
    } catch {
      status.textContent = t('profile.not_saved');
    }
  });

  main.append(
    heading(t('profile.title')),
    h('p', {}, isTeacher(me)
      ? h('a', { href: '/teacher', 'data-link': true }, t('profile.back_teacher'))
      : h('a', { href: '/lesson', 'data-link': true }, t('profile.back'))),
    form,
  );
}
