// Lists of documents: the pupil's (class document, own) and the teacher's overview of a lesson
// with a live text preview of each, the read-only switch and exports.
import { h, replace } from '../dom.js';
import { t, lang, errorText } from '../../i18n.js';
import { get, getKept, put } from '../../protocol/api.js';
import { docTitle } from './doc.js';

const docHref = (doc, lessonId) => `/doc?name=${encodeURIComponent(doc.name)}${lessonId ? `&lesson=${encodeURIComponent(lessonId)}` : ''}`;

/** The pupil's documents as links. */
export async function pupilDocs(me) {
  const list = h('ul', { class: 'cards-list' });
  try {
    const { docs } = await getKept('/docs');
    replace(list, docs.map((doc) => h('li', {}, h('a', { href: docHref(doc), 'data-link': true }, docTitle(doc, me)))));
  } catch (failure) {
    replace(list, h('li', { role: 'alert' }, errorText(failure)));
  }
  return list;
}

/**
 * The teacher's overview of a lesson's documents. Previews refresh every two seconds while the
 * page is visible; returns `{ el, stop }`.
 */
export function lessonDocs({ lesson, me, onError }) {
  const grid = h('ul', { class: 'doc-grid', 'aria-labelledby': 'docs-h' });
  let timer;
  let stopped = false;

  const lockToggle = (doc, title, { short = false } = {}) => {
    const toggleId = `ro-${doc.name.replace(/\./g, '-')}`;
    const label = t('doc.read_only_for', { title });
    return h('div', { class: 'check' },
      h('input', { type: 'checkbox', id: toggleId, checked: doc.read_only, 'aria-label': short ? label : undefined, onchange: async (event) => {
        try {
          await put(`/docs/${encodeURIComponent(doc.name)}/settings`, { read_only: event.target.checked });
        } catch (failure) {
          event.target.checked = !event.target.checked;
          onError(errorText(failure));
        }
      } }),
      // In a pupil's row the visible word is short; its name says the whole (and starts with it).
      h('label', { for: toggleId }, short ? t('doc.lock_short') : label));
  };

  // Who filled a shared document: named once the one who wrote most has used half their share.
  const size = (bytes) => new Intl.NumberFormat(lang(), { style: 'unit', unit: bytes < 1e6 ? 'kilobyte' : 'megabyte', maximumFractionDigits: 1 })
    .format(bytes < 1e6 ? bytes / 1e3 : bytes / 1e6);
  const filledBy = (doc) => {
    const top = doc.writers?.[0];
    if (!top || top.bytes * 2 < doc.share_bytes) return '';
    return t('doc.filled_by', { name: top.name, size: size(top.bytes), share: size(doc.share_bytes) });
  };
  // Shared documents (the class's, the notes, groups', copies) as cards with a preview.
  const card = (doc) => {
    const title = docTitle(doc, me);
    return h('li', { class: 'doc-card', 'data-doc': doc.name },
      h('h3', {}, h('a', { href: docHref(doc, lesson.id), 'data-link': true }, title)),
      h('p', { class: `doc-preview${doc.preview ? '' : ' empty'}` }, doc.preview || t('doc.empty')),
      h('p', { class: 'doc-filled' }, filledBy(doc)),
      doc.kind === 'notes' ? null : lockToggle(doc, title));
  };
  // Each pupil's own document as one row: 30 pupils fit on a screen.
  const row = (doc) => {
    const title = docTitle(doc, me);
    return h('li', { class: 'doc-row', 'data-doc': doc.name },
      h('a', { href: docHref(doc, lesson.id), 'data-link': true }, title),
      h('p', { class: `doc-preview${doc.preview ? '' : ' empty'}` }, doc.preview || t('doc.empty')),
      lockToggle(doc, title, { short: true }));
  };
  const personal = h('ul', { class: 'doc-rows', 'aria-labelledby': 'pupil-docs-h' });
  const personalSection = h('div', { hidden: true }, h('h3', { id: 'pupil-docs-h' }, t('lesson.pupil_docs')), personal);

  const refresh = async () => {
    if (stopped) return;
    try {
      const { docs } = await get(`/docs?lesson=${encodeURIComponent(lesson.id)}`);
      // Redraw only the previews once drawn, so focus and checkboxes are left alone.
      const drawn = new Map([...el.querySelectorAll('[data-doc]')].map((item) => [item.dataset.doc, item]));
      if (drawn.size !== docs.length || docs.some((d) => !drawn.has(d.name))) {
        replace(grid, docs.filter((d) => d.kind !== 'personal').map(card));
        const own = docs.filter((d) => d.kind === 'personal');
        replace(personal, own.map(row));
        personalSection.hidden = !own.length;
      } else {
        for (const doc of docs) {
          const preview = drawn.get(doc.name).querySelector('.doc-preview');
          preview.textContent = doc.preview || t('doc.empty');
          preview.classList.toggle('empty', !doc.preview);
          const filled = drawn.get(doc.name).querySelector('.doc-filled');
          if (filled) filled.textContent = filledBy(doc);
        }
      }
    } catch (failure) {
      onError(errorText(failure));
    }
    if (!stopped) timer = setTimeout(refresh, document.hidden ? 15000 : 2000);
  };
  const el = h('section', { 'aria-labelledby': 'docs-h' },
    h('h2', { id: 'docs-h' }, t('lesson.docs')),
    h('p', {}, h('a', { href: `/api/lessons/${encodeURIComponent(lesson.id)}/docs.zip?lang=${lang()}`, download: '' }, t('lesson.docs_zip'))),
    grid,
    personalSection);
  refresh();
  return { el, stop: () => { stopped = true; clearTimeout(timer); } };
}
