// One class: its roster, login cards, and starting a lesson.
import { h, formMessage, nextId } from '../dom.js';
import { heading } from '../shell.js';
import { loadOrExplain } from '../load.js';
import { announce } from '../announce.js';
import { t, errorText } from '../../i18n.js';
import { post, del } from '../../protocol/api.js';
import { rosterFromText } from './dashboard.js';

export async function classView({ main, params, navigate, setTitle }) {
  const id = params.get('id') ?? '';
  const cls = await loadOrExplain(main, `/classes/${encodeURIComponent(id)}`);
  if (!cls) return undefined;
  setTitle(cls.name);
  const base = `/classes/${encodeURIComponent(cls.id)}`;
  const message = formMessage();
  const rosterList = h('ul', { class: 'roster' });

  // A pupil's VPN for home: the WireGuard config and its QR code, shown once, here.
  const vpnArea = h('div', { class: 'vpn-access', 'aria-live': 'polite' });
  const giveVpn = async (p) => {
    try {
      const issued = await post(`${base}/pupils/${encodeURIComponent(p.id)}/vpn`);
      const file = URL.createObjectURL(new Blob([issued.config], { type: 'text/plain' }));
      vpnArea.replaceChildren(
        h('h3', { tabindex: '-1' }, t('vpn.for', { name: p.name })),
        h('p', {}, t('vpn.how')),
        h('img', { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(issued.qr_svg)}`, alt: t('vpn.qr_alt', { name: p.name }), width: '240', height: '240' }),
        h('p', {}, h('a', { href: file, download: issued.file_name }, t('vpn.download'))),
        h('p', { class: 'hint' }, t('vpn.once')),
        h('button', { type: 'button', class: 'danger', onclick: async () => {
          try {
            await del(`${base}/pupils/${encodeURIComponent(p.id)}/vpn`);
            vpnArea.replaceChildren(h('p', {}, t('vpn.taken', { name: p.name })));
          } catch (failure) {
            message.show(errorText(failure));
          }
        } }, t('vpn.take_named', { name: p.name })));
      vpnArea.querySelector('h3').focus();
    } catch (failure) {
      message.show(errorText(failure));
    }
  };

  const drawRoster = (pupils) => {
    rosterList.replaceChildren(...pupils.map((p) => h('li', {},
      h('span', { class: 'name' }, p.name),
      profileSummary(p.profile),
      h('button', { type: 'button', 'aria-label': t('class.new_card_for', { name: p.name }), onclick: async () => {
        if (!confirm(t('class.new_card_confirm', { name: p.name }))) return;
        await post(`${base}/pupils/${encodeURIComponent(p.id)}/card`).then(() => announce(t('class.new_card_done', { name: p.name })), (f) => message.show(errorText(f)));
      } }, t('class.new_card')),
      h('a', { class: 'button', href: `/api${base}/pupils/${encodeURIComponent(p.id)}/export?lang=${document.documentElement.lang || 'nb'}`, download: '', 'aria-label': t('class.export_pupil_named', { name: p.name }) }, t('class.export_pupil')),
      h('button', { type: 'button', 'aria-label': t('vpn.give_named', { name: p.name }), onclick: () => giveVpn(p) }, t('vpn.give')),
      h('button', { type: 'button', class: 'danger', 'aria-label': t('class.remove_pupil_named', { name: p.name }), onclick: async () => {
        if (!confirm(t('class.remove_pupil_confirm', { name: p.name }))) return;
        try {
          const updated = await del(`${base}/pupils/${encodeURIComponent(p.id)}`);
          drawRoster(updated.pupils);
          announce(t('class.pupil_removed', { name: p.name }));
        } catch (failure) {
          message.show(errorText(failure));
        }
      } }, t('class.remove_pupil')))));
    if (!pupils.length) rosterList.replaceChildren(h('li', {}, t('class.empty_roster')));
  };
  drawRoster(cls.pupils);

  const addId = nextId('add-pupils');
  const addArea = h('textarea', { id: addId, rows: '4', 'aria-describedby': `${addId}-hint` });
  const addForm = h('form', { onsubmit: async (event) => {
    event.preventDefault();
    const names = rosterFromText(addArea.value);
    if (!names.length) return;
    try {
      const updated = await post(`${base}/pupils`, { names });
      addArea.value = '';
      drawRoster(updated.pupils);
      announce(t('class.pupils_added', { count: names.length }));
    } catch (failure) {
      message.show(errorText(failure));
    }
  } }, h('label', { for: addId }, t('class.add_pupils')), h('p', { id: `${addId}-hint`, class: 'hint' }, t('dashboard.roster_hint')), addArea, h('button', { type: 'submit' }, t('class.add_submit')));

  const startButton = h('button', { type: 'button', class: 'primary big', onclick: async () => {
    try {
      const lesson = await post('/lessons', { class_id: cls.id });
      navigate(`/teacher/lesson?id=${encodeURIComponent(lesson.id)}`);
    } catch (failure) {
      message.show(errorText(failure));
    }
  } }, cls.active_lesson ? t('class.open_lesson') : t('class.start_lesson'));

  // Lessons that are over: when they were, and everything written in them as one download.
  const when = new Intl.DateTimeFormat(document.documentElement.lang || 'nb', { dateStyle: 'medium', timeStyle: 'short' });
  const pastList = cls.past_lessons?.length
    ? h('ul', { class: 'past-lessons' }, cls.past_lessons.map((l) => h('li', {},
      h('a', { href: `/api/lessons/${encodeURIComponent(l.id)}/docs.zip?lang=${document.documentElement.lang || 'nb'}`, download: '' },
        t('class.past_zip', { date: when.format(new Date(l.started_ms)) })))))
    : h('p', {}, t('class.no_past_lessons'));

  main.append(
    heading(t('class.title', { name: cls.name })),
    message.el,
    h('p', {}, startButton),
    h('section', { 'aria-labelledby': 'roster-h' },
      h('h2', { id: 'roster-h' }, t('class.roster')),
      h('p', {}, h('a', { href: `/teacher/cards?class=${encodeURIComponent(cls.id)}`, 'data-link': true }, t('class.print_cards'))),
      rosterList,
      vpnArea,
      addForm),
    h('section', { 'aria-labelledby': 'past-h' },
      h('h2', { id: 'past-h' }, t('class.past_lessons')),
      pastList),
    h('section', { 'aria-labelledby': 'delete-class-h' },
      h('h2', { id: 'delete-class-h' }, t('class.delete_title')),
      h('p', {}, t('class.delete_intro')),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm(t('class.delete_confirm', { name: cls.name }))) return;
        try {
          await del(base);
          announce(t('class.deleted', { name: cls.name }));
          navigate('/teacher');
        } catch (failure) {
          message.show(errorText(failure));
        }
      } }, t('class.delete', { name: cls.name }))),
  );
}

/** What a pupil chose in their profile, in a few words, so the teacher knows (nothing: none). */
function profileSummary(profile) {
  if (!profile) return null;
  const chosen = [
    profile.text_size !== 'normal' ? t(`profile.summary.${profile.text_size}`) : null,
    ...['high_contrast', 'reduced_motion', 'dyslexia_font', 'read_aloud', 'at_home_today']
      .filter((name) => profile[name]).map((name) => t(`profile.summary.${name}`)),
  ].filter(Boolean);
  if (!chosen.length) return null;
  return h('span', { class: 'profile-summary' }, t('profile.summary.label', { list: chosen.join(', ') }));
}
