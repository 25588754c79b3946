// Pieces both the pupil's and the teacher's message views use: a thread as a list, and a
// labelled box to write in.
import { h, replace, nextId } from '../dom.js';
import { t } from '../../i18n.js';
import { readAloudButton } from '../read-aloud.js';

const timeFormat = () => new Intl.DateTimeFormat(document.documentElement.lang || 'nb', { hour: '2-digit', minute: '2-digit' });

/** One message: who, when, what (or that it was deleted), and optional actions. */
export function messageItem(message, actions = []) {
  // The role comes from the box, as a badge beside the name: a name someone typed ("Ada
  // (lærer)") cannot look like it.
  return h('li', { class: `message ${message.kind}${message.deleted ? ' deleted' : ''}`, 'data-seq': message.seq },
    h('p', { class: 'meta' },
      h('span', { class: 'author' }, message.author.name),
      message.author.teacher ? [' ', h('span', { class: 'badge role' }, t('role.teacher'))] : null,
      ' ',
      h('time', { datetime: new Date(message.at_ms).toISOString() }, timeFormat().format(new Date(message.at_ms))),
      message.kind === 'question' ? h('span', { class: 'badge' }, t('messages.question')) : null),
    message.deleted
      ? h('p', { class: 'text' }, t('messages.deleted'))
      : h('p', { class: 'text' }, message.text),
    message.deleted || !message.text ? null : readAloudButton(() => message.text, t('read_aloud.message', { name: message.author.name })),
    message.doc && !message.deleted ? h('p', {}, h('a', { href: `/doc?name=${encodeURIComponent(message.doc)}`, 'data-link': true }, t('messages.open_doc'))) : null,
    message.file && !message.deleted ? attachment(message.file) : null,
    actions.length ? h('p', { class: 'actions' }, actions) : null);
}

/** An attached file: a picture is shown (and opens full size), anything else is a download. */
function attachment(file) {
  const href = `/api/files/${encodeURIComponent(file.id)}`;
  const size = t('messages.file_size', { kb: Math.max(1, Math.round(file.size / 1024)) });
  if (file.content_type.startsWith('image/')) {
    return h('p', { class: 'attachment' }, h('a', { href, target: '_blank', rel: 'noopener' },
      h('img', { src: href, alt: t('messages.picture_named', { name: file.name }), loading: 'lazy' })));
  }
  return h('p', { class: 'attachment' }, h('a', { href, download: file.name }, `${file.name} (${size})`));
}

/** A thread's messages; an empty thread says so. */
export function threadList(label) {
  // Focusable: with larger text the list scrolls, and keyboard users must reach all of it.
  const list = h('ol', { class: 'thread', 'aria-label': label, tabindex: '0' });
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

/**
 * A labelled text box with a send button. `onSend(text, file)`; Enter sends, Shift+Enter
 * breaks the line. With `attach`, a picture or PDF can go along (`file` is then a File).
 */
export function composer({ label, button, onSend, hint, attach = false, extra = null }) {
  const id = nextId('compose');
  const hintId = `${id}-hint`;
  const box = h('textarea', { id, rows: 2, maxlength: 2000, 'aria-describedby': hint ? hintId : undefined });
  const submit = h('button', { type: 'submit' }, button);
  const reason = h('p', { class: 'hint', id: hintId }, hint ?? '');
  const fileId = `${id}-file`;
  const picker = attach ? h('input', { type: 'file', id: fileId, accept: 'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain' }) : null;
  const form = h('form', { class: 'composer', onsubmit: (event) => {
    event.preventDefault();
    const text = box.value.trim();
    const file = picker?.files?.[0];
    if (!text && !file) return;
    onSend(text, file);
    box.value = '';
    if (picker) picker.value = '';
    box.focus();
  } }, h('label', { for: id }, label), box, reason,
  picker ? h('p', { class: 'attach' }, h('label', { for: fileId }, t('messages.attach')), ' ', picker) : null,
  extra,
  submit);
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return {
    el: form,
    focus() {
      box.focus();
    },
    /** Disables writing with a reason shown under the box (chat closed, muted). */
    setEnabled(enabled, why = hint ?? '') {
      box.disabled = !enabled;
      submit.disabled = !enabled;
      reason.textContent = why;
    },
  };
}
