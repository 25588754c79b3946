// The teacher's view of a running lesson: the code, who is present (live), the documents,
// remove, end.
import { h, formMessage } from '../dom.js';
import { heading } from '../shell.js';
import { loadOrExplain } from '../load.js';
import { announce } from '../announce.js';
import { t, errorText, closedText } from '../../i18n.js';
import { post, del } from '../../protocol/api.js';
import { connectLive } from '../../protocol/live.js';
import { lessonDocs } from './doc-list.js';
import { messageStore } from '../../protocol/messages.js';
import { teacherMessages } from '../messages/teacher.js';
import { mediaClient } from '../../protocol/media.js';
import { teacherStream } from '../media/teacher-stream.js';
import { tabs } from '../tabs.js';

/** Keyboard shortcuts of the lesson page: Alt+Shift+letter → the tab it opens (if any) and
 * what gets focus. */
const SHORTCUTS = [
  ['H', 'hands', null, '#hands-h'],
  ['E', 'people', null, '#present-h'],
  ['S', 'reply', null, '.thread-view:not([hidden]) textarea'],
  ['D', 'docs', 'docs', '#docs-h'],
  ['L', 'live', 'live', '#stream-h'],
  ['G', 'groups', 'groups', '#groups-h'],
  ['K', 'announce', 'talk', '#announce-target'],
];

export async function lessonView({ main, me, params, navigate, setTitle }) {
  const id = params.get('id') ?? '';
  const lesson = await loadOrExplain(main, `/lessons/${encodeURIComponent(id)}`);
  if (!lesson) return undefined;
  setTitle(t('lesson.title', { name: lesson.class.name }));
  const message = formMessage();
  const connection = h('p', { class: 'connection', role: 'status' });
  let known = new Map();

  const remove = async (person) => {
    if (!confirm(t('lesson.remove_confirm', { name: person.name }))) return;
    try {
      await del(`/lessons/${encodeURIComponent(lesson.id)}/participants/${encodeURIComponent(person.id)}`);
      announce(t('lesson.removed', { name: person.name }));
    } catch (failure) {
      message.show(errorText(failure));
    }
  };

  // Announce arrivals and departures, not the whole list.
  const tellArrivals = (participants) => {
    for (const p of participants) {
      const before = known.get(p.id);
      if (before !== undefined && before !== p.online) announce(t(p.online ? 'lesson.arrived' : 'lesson.left', { name: p.name }));
    }
    known = new Map(participants.map((p) => [p.id, p.online]));
  };

  let panel;
  const store = messageStore({
    onChange: (type, msg) => panel?.update(type, msg),
    onRefused: (msg) => message.show(t(`messages.refused_${msg.code}`)),
  });
  let stream;
  const media = mediaClient({
    onTrack: (track, mediaStream) => stream.onTrack(track, mediaStream),
    onRefused: () => message.show(t('media.refused')),
  });
  stream = teacherStream({ media, lessonId: lesson.id, onError: (text) => message.show(text) });
  panel = teacherMessages({ store, lesson, onError: (text) => message.show(text), setTitle, live: stream, onRemove: remove });
  const live = connectLive({
    lessonId: lesson.id,
    onOpen: (send) => {
      store.opened(send);
      media.opened(send);
    },
    onMessage: (msg) => {
      if (media.handle(msg) || msg.type === 'classroom_camera') {
        stream.update(msg);
        return;
      }
      if (msg.type === 'presence') {
        tellArrivals(msg.participants);
        panel.setPeople(msg.participants);
        stream.setPeople(msg.participants);
      }
      if (msg.type === 'lesson_ended') navigate('/teacher');
      store.handle(msg);
    },
    onState: (state, code) => {
      // The lesson ended (here or on another page) or she logged out elsewhere: say it once;
      // the page does not retry.
      if (state === 'closed') connection.textContent = closedText(code, 'pupil.ended');
      else connection.textContent = state === 'reconnecting' ? t('live.reconnecting') : '';
    },
  });

  const endLesson = async () => {
    if (!confirm(t('lesson.end_confirm'))) return;
    try {
      await post(`/lessons/${encodeURIComponent(lesson.id)}/end`);
      navigate('/teacher');
    } catch (failure) {
      message.show(errorText(failure));
    }
  };
  const projectorHref = `/teacher/projector?id=${encodeURIComponent(lesson.id)}`;
  // The projector gets its own window (the lesson page stays here); a blocked pop-up falls
  // back to opening it in this tab.
  const openProjector = (event) => {
    event.preventDefault();
    const opened = window.open(projectorHref, 'tavla-projector', 'popup,width=1024,height=768');
    if (!opened) navigate(projectorHref);
  };
  const onKey = (event) => {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return;
    const hit = SHORTCUTS.find(([key]) => event.code === `Key${key}`);
    if (hit?.[2]) work.show(hit[2]);
    const target = hit && main.querySelector(hit[3]);
    if (!target) return;
    event.preventDefault();
    if (target.matches('h2, h3')) target.setAttribute('tabindex', '-1');
    target.focus();
    target.scrollIntoView?.({ block: 'nearest' });
  };
  document.addEventListener('keydown', onKey);

  const docs = lessonDocs({ lesson, me, onError: (text) => message.show(text) });
  // The work, one thing at a time, so the page stays short with a class of 30.
  const work = tabs({
    label: t('lesson.work_tabs'),
    storageKey: `tavla.lesson-tab.${lesson.id}`,
    items: [
      { id: 'docs', title: t('lesson.tab_docs'), content: docs.el },
      { id: 'live', title: t('lesson.tab_live'), content: stream.el },
      { id: 'groups', title: t('lesson.tab_groups'), content: panel.groups },
      { id: 'talk', title: t('lesson.tab_talk'), content: [panel.announcements, panel.chats] },
    ],
  });
  main.classList.add('wide');
  main.append(
    h('div', { class: 'lesson-bar' },
      heading(t('lesson.title', { name: lesson.class.name })),
      h('p', { class: 'join-code-line' }, t('lesson.code_label'), ' ',
        h('span', { class: 'join-code small-code', 'aria-label': t('lesson.code_spoken', { code: lesson.code.split('').join(' ') }) }, lesson.code)),
      h('p', { class: 'bar-actions' },
        h('a', { href: projectorHref, class: 'button', onclick: openProjector }, t('lesson.projector')), ' ',
        h('button', { type: 'button', class: 'danger', onclick: endLesson }, t('lesson.end')))),
    connection,
    message.el,
    h('div', { class: 'cockpit' },
      // The people are always in view: hands with their questions, the open thread, who is here.
      h('aside', { class: 'cockpit-people', 'aria-label': t('lesson.people_panel') }, panel.hands, panel.people),
      h('div', { class: 'cockpit-work' },
        work.el,
        h('details', { class: 'shortcuts' },
          h('summary', {}, t('shortcuts.title')),
          h('ul', {}, SHORTCUTS.map(([key, name]) => h('li', {}, h('kbd', {}, `Alt+Shift+${key}`), ' ', t(`shortcuts.${name}`))))))),
  );
  return () => {
    document.removeEventListener('keydown', onKey);
    panel.stop();
    live.close();
    media.close();
    stream.stop();
    docs.stop();
  };
}
