// The teacher's tools beside a document: save a named version, restore one as a copy, and hand
// the document out as a template (a copy for each pupil or each group).
import { h, replace } from '../dom.js';
import { announce } from '../announce.js';
import { t, errorText } from '../../i18n.js';
import { get, post } from '../../protocol/api.js';

const when = (ms) => new Date(ms).toLocaleString(document.documentElement.lang || 'nb', { dateStyle: 'short', timeStyle: 'short' });

/** A labelled text field and a button that submits it; `onSubmit(value)` does the work. */
function fieldForm({ id, label, button, value = '', onSubmit, extraButtons = [] }) {
  const input = h('input', { id, type: 'text', maxlength: 80, required: true, value });
  const form = h('form', {},
    h('label', { for: id }, label), input,
    h('div', { class: 'button-row' }, h('button', { type: 'submit' }, button), ...extraButtons.map((b) => h('button', {
      type: 'button',
      onclick: () => { if (form.reportValidity()) b.onClick(input.value.trim()); },
    }, b.label))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onSubmit(input.value.trim(), input);
  });
  return form;
}

export function teacherTools({ name, title, lessonId }) {
  const path = `/docs/${encodeURIComponent(name)}`;
  const message = h('p', { class: 'form-message', role: 'status' });
  const show = (text) => { message.textContent = text; announce(text); };
  const list = h('ul', { class: 'versions', 'aria-labelledby': 'versions-h' });
  const docLink = (docName) => `/doc?name=${encodeURIComponent(docName)}${lessonId ? `&lesson=${encodeURIComponent(lessonId)}` : ''}`;

  const restore = async (version) => {
    const label = version.label || t('history.auto_label', { when: when(version.at_ms) });
    try {
      const { doc } = await post(`${path}/versions/${encodeURIComponent(version.id)}/copy`, { title: t('history.copy_title', { label }) });
      message.replaceChildren(t('history.restored'), ' ', h('a', { href: docLink(doc.name), 'data-link': true }, t('history.open_copy')));
      announce(t('history.restored'));
    } catch (failure) {
      show(errorText(failure));
    }
  };

  const refresh = async () => {
    try {
      const { versions } = await get(`${path}/versions`);
      replace(list, versions.length === 0 ? h('li', { class: 'placeholder' }, t('history.none'))
        : versions.slice().reverse().map((v) => h('li', {},
          h('span', {}, v.label || t('history.auto_label', { when: when(v.at_ms) }), ' ', h('span', { class: 'muted' }, when(v.at_ms))),
          h('button', { type: 'button', class: 'small', 'aria-label': t('history.restore_named', { label: v.label || when(v.at_ms) }), onclick: () => restore(v) }, t('history.restore')))));
    } catch (failure) {
      show(errorText(failure));
    }
  };
  refresh();

  const save = fieldForm({
    id: 'version-label',
    label: t('history.label'),
    button: t('history.save'),
    onSubmit: async (label, input) => {
      try {
        await post(`${path}/versions`, { label });
        input.value = '';
        show(t('history.saved', { label }));
        refresh();
      } catch (failure) {
        show(failure.code === 'invalid_input' && label ? t('history.empty_doc') : errorText(failure));
      }
    },
  });

  const handOut = (to) => async (handTitle) => {
    try {
      const { docs } = await post(`${path}/hand-out`, { to, title: handTitle });
      show(t(`history.handed_out_${to}`, { n: docs.length }));
    } catch (failure) {
      show(failure.field === 'to' ? t('history.no_groups') : errorText(failure));
    }
  };
  const handForm = fieldForm({
    id: 'handout-title',
    label: t('history.handout_title'),
    value: title,
    button: t('history.hand_to_pupils'),
    onSubmit: (value) => handOut('pupils')(value),
    extraButtons: [{ label: t('history.hand_to_groups'), onClick: handOut('groups') }],
  });

  return h('div', { class: 'teacher-tools' },
    h('h2', { id: 'versions-h' }, t('history.title')),
    save,
    list,
    h('h2', { id: 'handout-h' }, t('history.handout')),
    h('p', { class: 'hint' }, t('history.handout_hint')),
    handForm,
    message);
}
