// The teacher's start page: running lessons, classes, a new class, inviting a colleague.
import { h, field, formMessage, nextId } from '../dom.js';
import { heading } from '../shell.js';
import { t, errorText } from '../../i18n.js';
import { get, post } from '../../protocol/api.js';

export function rosterFromText(text) {
  return text.split('\n').map((line) => line.trim()).filter(Boolean);
}

export async function dashboardView({ main, me, navigate, setTitle }) {
  setTitle(t('dashboard.title'));
  const [{ classes }, { lessons }, { rules }] = await Promise.all([get('/classes'), get('/lessons'), get('/retention')]);
  // Boxes nearby take a moment to find (the box asks the network): drawn when they answer.
  const nearbyList = h('div', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p', {}, t('boxes.looking')));
  get('/boxes').then((nearby) => {
    nearbyList.removeAttribute('aria-busy');
    const own = h('p', {}, t('boxes.this_box', { name: `${nearby.this_box}.local` }));
    if (!nearby.enabled) return nearbyList.replaceChildren(h('p', {}, t('boxes.off')));
    nearbyList.replaceChildren(own, nearby.boxes.length
      ? h('ul', { class: 'cards-list' }, nearby.boxes.map((b) => h('li', {},
        h('a', { href: `https://${b.host}:${b.port}/` }, b.name), ' ', h('span', { class: 'hint' }, b.addresses.join(', ')),
        b.sync_port ? [' ', h('a', { href: `/teacher/boxes?address=${encodeURIComponent(`${b.host}:${b.sync_port}`)}`, 'data-link': true }, t('boxes.pair_with', { name: b.name }))] : null)))
      : h('p', {}, t('boxes.none')));
  }, () => nearbyList.replaceChildren(h('p', {}, t('boxes.none'))));

  const lessonList = lessons.length
    ? h('ul', { class: 'cards-list' }, lessons.map((l) => h('li', {},
      h('a', { href: `/teacher/lesson?id=${encodeURIComponent(l.id)}`, 'data-link': true }, t('dashboard.lesson_item', { class: l.class.name, code: l.code })))))
    : h('p', {}, t('dashboard.no_lessons'));

  const classList = classes.length
    ? h('ul', { class: 'cards-list' }, classes.map((c) => h('li', {},
      h('a', { href: `/teacher/class?id=${encodeURIComponent(c.id)}`, 'data-link': true }, c.name))))
    : h('p', {}, t('dashboard.no_classes'));

  const className = field({ label: t('dashboard.class_name'), name: 'class_name', hint: t('dashboard.class_name_hint'), attrs: { maxlength: '40' } });
  const rosterId = nextId('roster');
  const roster = h('textarea', { id: rosterId, name: 'roster', rows: '8', 'aria-describedby': `${rosterId}-hint` });
  const createMessage = formMessage();
  const createForm = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    className.showError('');
    createMessage.show('');
    if (!className.input.value.trim()) return className.showError(t('dashboard.class_name_missing'));
    try {
      const created = await post('/classes', { name: className.input.value, pupils: rosterFromText(roster.value) });
      navigate(`/teacher/class?id=${encodeURIComponent(created.id)}`);
    } catch (failure) {
      createMessage.show(errorText(failure));
    }
  } },
  className.wrapper,
  h('div', { class: 'field' }, h('label', { for: rosterId }, t('dashboard.roster')), h('p', { id: `${rosterId}-hint`, class: 'hint' }, t('dashboard.roster_hint')), roster),
  createMessage.el,
  h('button', { type: 'submit', class: 'primary' }, t('dashboard.create_class')));

  const inviteOutput = h('div', { class: 'invite-output', 'aria-live': 'polite' });
  const inviteName = field({ label: t('dashboard.invite_name'), name: 'invite_name', required: false, attrs: { maxlength: '60' } });
  const inviteForm = h('form', { onsubmit: async (event) => {
    event.preventDefault();
    try {
      const { url } = await post('/teachers/invite', { name: inviteName.input.value.trim() || null });
      const linkId = nextId('invite-link');
      inviteOutput.replaceChildren(
        h('label', { for: linkId }, t('dashboard.invite_link')),
        h('input', { id: linkId, readonly: true, value: url, class: 'wide' }),
      );
    } catch (failure) {
      inviteOutput.replaceChildren(h('p', { role: 'alert' }, errorText(failure)));
    }
  } }, inviteName.wrapper, h('button', { type: 'submit' }, t('dashboard.invite_submit')), inviteOutput);

  // What the box keeps of this teacher's classes, for how long, and when the next goes.
  const when = new Intl.DateTimeFormat(document.documentElement.lang || 'nb', { dateStyle: 'long' });
  const retention = h('table', { class: 'retention' },
    h('caption', {}, t('retention.caption')),
    h('thead', {}, h('tr', {}, ...['retention.kind', 'retention.kept_for', 'retention.count', 'retention.next'].map((key) => h('th', { scope: 'col' }, t(key))))),
    h('tbody', {}, rules.map((rule) => h('tr', {},
      h('th', { scope: 'row' }, t(`retention.kind.${rule.kind}`)),
      h('td', {}, t('retention.days', { count: rule.days })),
      h('td', {}, String(rule.count)),
      h('td', {}, rule.next_deletion_ms ? when.format(new Date(rule.next_deletion_ms)) : t('retention.nothing_yet'))))));

  main.append(
    heading(t('dashboard.title')),
    h('p', {}, t('dashboard.greeting', { name: me.teacher.name })),
    h('section', { 'aria-labelledby': 'lessons-h' }, h('h2', { id: 'lessons-h' }, t('dashboard.lessons')), lessonList),
    h('section', { 'aria-labelledby': 'classes-h' }, h('h2', { id: 'classes-h' }, t('dashboard.classes')), classList),
    h('section', { 'aria-labelledby': 'new-class-h' }, h('h2', { id: 'new-class-h' }, t('dashboard.new_class')), createForm),
    h('section', { 'aria-labelledby': 'invite-h' }, h('h2', { id: 'invite-h' }, t('dashboard.invite')), h('p', {}, t('dashboard.invite_intro')), inviteForm),
    h('section', { 'aria-labelledby': 'boxes-h' }, h('h2', { id: 'boxes-h' }, t('boxes.title')), nearbyList,
      h('p', {}, h('a', { href: '/teacher/boxes', 'data-link': true }, t('boxes.paired_link')))),
    h('section', { 'aria-labelledby': 'retention-h' }, h('h2', { id: 'retention-h' }, t('retention.title')), h('p', {}, t('retention.intro')), retention),
  );
}
