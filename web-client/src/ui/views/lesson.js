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

export async function lessonView({ main, me, params, navigate, setTitle }) {
  const id = params.get('id') ?? '';
  const lesson = await loadOrExplain(main, `/lessons/${encodeURIComponent(id)}`);
  if (!lesson) return undefined;
  setTitle(t('lesson.title', { name: lesson.class.name }));
  const message = formMessage();
  const summary = h('p', { class: 'presence-summary' });
  const list = h('ul', { class: 'presence', 'aria-labelledby': 'present-h' });
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

  const draw = (participants) => {
    const online = participants.filter((p) => p.online);
    summary.textContent = t('lesson.summary', { present: online.length, total: participants.length });
    // Announce arrivals and departures, not the whole list.
    for (const p of participants) {
      const before = known.get(p.id);
      if (before !== undefined && before !== p.online) announce(t(p.online ? 'lesson.arrived' : 'lesson.left', { name: p.name }));
    }
    known = new Map(participants.map((p) => [p.id, p.online]));
    list.replaceChildren(...participants.map((p) => h('li', { class: p.online ? 'online' : 'offline', 'data-participant': p.id },
      h('span', { class: 'name' }, p.name),
      h('span', { class: 'status' }, p.online ? t('lesson.present') : t('lesson.absent')),
      p.at_home ? h('span', { class: 'badge home' }, t('lesson.at_home')) : null,
      p.rostered ? null : h('span', { class: 'badge' }, t('lesson.guest')),
      (p.online || !p.rostered) ? h('button', { type: 'button', class: 'danger small', 'aria-label': t('lesson.remove_named', { name: p.name }), onclick: () => remove(p) }, t('lesson.remove')) : null)));
    if (!participants.length) list.replaceChildren(h('li', {}, t('lesson.nobody')));
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
  panel = teacherMessages({ store, lesson, onError: (text) => message.show(text), setTitle, live: stream });
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
        draw(msg.participants);
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

  const docs = lessonDocs({ lesson, me, onError: (text) => message.show(text) });
  main.append(
    heading(t('lesson.title', { name: lesson.class.name })),
    h('div', { class: 'code-panel' },
      h('p', {}, t('lesson.code_label')),
      h('p', { class: 'join-code', 'aria-label': t('lesson.code_spoken', { code: lesson.code.split('').join(' ') }) }, lesson.code),
      h('p', {}, h('a', { href: `/teacher/projector?id=${encodeURIComponent(lesson.id)}`, 'data-link': true }, t('lesson.projector')))),
    connection,
    message.el,
    h('section', {},
      h('h2', { id: 'present-h' }, t('lesson.participants')),
      summary,
      list),
    stream.el,
    panel.el,
    docs.el,
    h('p', {}, h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!confirm(t('lesson.end_confirm'))) return;
      try {
        await post(`/lessons/${encodeURIComponent(lesson.id)}/end`);
        navigate('/teacher');
      } catch (failure) {
        message.show(errorText(failure));
      }
    } }, t('lesson.end'))),
  );
  return () => {
    live.close();
    media.close();
    stream.stop();
    docs.stop();
  };
}
