// Pieces both the pupil's and the teacher's message views use: a thread as a list, and a
// labelled box to write in.
import { h, replace, nextId } from '../dom.js';
import { t } from '../../i18n.js';

const timeFormat = () => new Intl.DateTimeFormat(document.documentElement.lang || 'nb', { hour: '2-digit', minute: '2-digit' });

/** One message: who, when, what (or that it was deleted), and optional actions. */
export function messageItem(message, actions = []) {
  const who = message.author.teacher ? t('messages.teacher_name', { name: message.author.name }) : message.author.name;
  return h('li', { class: `message ${message.kind}${message.deleted ? ' deleted' : ''}`, 'data-seq': message.seq },
    h('p', { class: 'meta' },
      h('span', { class: 'author' }, who),
      ' ',
      h('time', { datetime: new Date(message.at_ms).toISOString() }, timeFormat().format(new Date(message.at_ms))),
      message.kind === 'question' ? h('span', { class: 'badge' }, t('messages.question')) : null),
    message.deleted
      ? h('p', { class: 'text' }, t('messages.deleted'))
      : h('p', { class: 'text' }, message.text),
    message.doc && !message.deleted ? h('p', {}, h('a', { href: `/doc?name=${encodeURIComponent(message.doc)}`, 'data-link': true }, t('messages.open_doc'))) : null,
    actions.length ? h('p', { class: 'actions' }, actions) : null);
}

/** A thread's messages; an empty thread says so. */
export function threadList(label) {
  const list = h('ol', { class: 'thread', 'aria-label': label });
  return {
    el: list,
    draw(messages, actionsFor = () => []) {
      if (!messages.length) {
        replace(list, h('li', { class: 'empty' }, t('messages.none')));
        return;
      }
      replace(list, messages.map((m) => messageItem(m, actionsFor(m))));
    },
  };
}

/** A labelled text box with a send button. `onSend(text)`; Enter sends, Shift+Enter breaks. */
export function composer({ label, button, onSend, hint }) {
  const id = nextId('compose');
  const hintId = `${id}-hint`;
  const box = h('textarea', { id, rows: 2, maxlength: 2000, 'aria-describedby': hint ? hintId : undefined });
  const submit = h('button', { type: 'submit' }, button);
  const reason = h('p', { class: 'hint', id: hintId }, hint ?? '');
  const form = h('form', { class: 'composer', onsubmit: (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) return;
    onSend(text);
    box.value = '';
    box.focus();
  } }, h('label', { for: id }, label), box, reason, submit);
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return {
    el: form,
    /** Disables writing with a reason shown under the box (chat closed, muted). */
    setEnabled(enabled, why = hint ?? '') {
      box.disabled = !enabled;
      submit.disabled = !enabled;
      reason.textContent = why;
    },
  };
}
