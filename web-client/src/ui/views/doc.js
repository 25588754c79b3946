// One shared document: toolbar, the text, who is here, export links. Teachers and pupils both
// come here; the server decides what each may read and write.
import { h, replace } from '../dom.js';
import { heading } from '../shell.js';
import { announce } from '../announce.js';
import { readAloudButton } from '../read-aloud.js';
import { loadOrExplain } from '../load.js';
import { t, lang, errorText, closedText } from '../../i18n.js';
import { insertImage, IMAGE_ACCEPT } from '../../editor/images.js';
import { openDocument } from '../../editor/session.js';
import { createToolbar } from '../../editor/toolbar.js';
import { teacherTools } from './doc-history.js';

/** The heading a document gets, from its kind and (for personal documents) its owner. */
export function docTitle(doc, me) {
  if (doc.kind === 'class') return t('doc.kind_class');
  if (doc.kind === 'notes') return t('doc.kind_notes');
  if (doc.kind === 'group') return t('doc.kind_group', { n: doc.group ?? '' });
  if (doc.kind === 'copy') {
    const title = doc.copy_title ?? '';
    if (me.role === 'teacher' && doc.title) return t('doc.kind_copy_of', { title, name: doc.title });
    if (doc.group) return t('doc.kind_copy_group', { title, n: doc.group });
    return t('doc.kind_copy', { title });
  }
  if (me.role !== 'teacher') return t('doc.kind_mine');
  return t('doc.kind_personal', { name: doc.title ?? '' });
}

export function exportLinks(name) {
  const base = `/api/docs/${encodeURIComponent(name)}/export?lang=${lang()}&format=`;
  return h('ul', { class: 'inline-list', 'aria-label': t('doc.export') },
    ['html', 'md', 'txt'].map((format) => h('li', {}, h('a', { href: base + format, download: '' }, t(`doc.export_${format}`)))));
}

/**
 * One document, ready to write in: title, toolbar, text, who is here, exports (and the
 * teacher's history tools). `into` receives it, or the "not found" page if it cannot be
 * opened. Returns null then, else `{ title, destroy, settingsChanged(msg), accessEnded(code) }`:
 * the page that holds the lesson's connection passes its `doc_settings` messages and its end.
 */
export async function docPanel({ into, me, name, fromLesson, before = [] }) {
  // A pupil's own documents open from what the browser kept when the box is away.
  const doc = await loadOrExplain(into, `/docs/${encodeURIComponent(name)}`, { kept: me.role !== 'teacher' });
  if (!doc) return null;
  const title = docTitle(doc, me);
  const userName = me.role === 'teacher' ? me.teacher.name : me.pupil.name;

  const status = h('p', { class: 'connection', role: 'status' }, t('doc.connecting'));
  const notice = h('p', { class: 'notice', role: 'alert', hidden: true });
  const peersList = h('ul', { class: 'peers', 'aria-labelledby': 'peers-h' });
  const hint = h('p', { id: 'editor-hint', class: 'hint' }, t(doc.writable ? 'doc.keyboard_hint' : 'doc.read_only_hint'));
  const mount = h('div', { class: 'editor-text' });
  let session = null;
  let knownPeers = null;
  let writable = doc.writable;

  const showProblem = (failure) => {
    notice.textContent = errorText(failure);
    notice.hidden = false;
  };
  // Alt text is asked for every picture; an empty answer marks it as decoration.
  const askAlt = () => prompt(t('editor.image_alt_prompt'));
  const picker = h('input', { type: 'file', accept: IMAGE_ACCEPT, hidden: true, 'aria-hidden': 'true', tabindex: '-1' });
  picker.addEventListener('change', () => {
    const [file] = picker.files;
    picker.value = '';
    if (file && session) insertImage({ view: session.view, docName: name, file, askAlt, onError: showProblem });
  });
  const toolbar = createToolbar({ label: t('editor.toolbar'), getView: () => session?.view, onImage: () => picker.click() });
  mount.addEventListener('keydown', (event) => {
    if (event.altKey && event.key === 'F10') {
      event.preventDefault();
      toolbar.focus();
    }
  });

  const drawPeers = (peers) => {
    replace(peersList, peers.map((p) => h('li', { class: `peer peer-${p.colour}` },
      h('span', { class: 'peer-swatch', 'aria-hidden': 'true' }), p.me ? t('doc.peer_me', { name: p.name }) : p.name,
      p.teacher ? [' ', h('span', { class: 'badge role' }, t('role.teacher'))] : null)));
    // Announce arrivals and departures (not on the first draw).
    const names = new Set(peers.filter((p) => !p.me).map((p) => p.name));
    if (knownPeers) {
      for (const n of names) if (!knownPeers.has(n)) announce(t('doc.peer_joined', { name: n }));
      for (const n of knownPeers) if (!names.has(n)) announce(t('doc.peer_left', { name: n }));
    }
    knownPeers = names;
  };

  const stopWriting = (why) => {
    status.textContent = why;
    notice.textContent = why;
    notice.hidden = false;
    writable = false;
    toolbar.el.hidden = true;
    hint.textContent = t('doc.read_only_hint');
  };

  const open = () => {
    mount.replaceChildren();
    toolbar.el.hidden = !writable;
    hint.textContent = t(writable ? 'doc.keyboard_hint' : 'doc.read_only_hint');
    session = openDocument({
      mount,
      name,
      userName,
      writable,
      attributes: { 'aria-label': title, 'aria-describedby': 'editor-hint' },
      onStatus: (state) => { status.textContent = t(`doc.status_${state}`); },
      onPeers: drawPeers,
      onChange: (state) => toolbar.refresh(state, writable),
      askAlt,
      onImageError: showProblem,
      onClosed: (code) => {
        session?.destroy();
        session = null;
        if (code === 4003 || code === 4013 || code === 4014) {
          // The server refused a change (made read-only meanwhile, the document is full, or the
          // writer's room is used up): start again from what the box has, so the refused
          // change is not re-sent forever.
          const why = { 4003: 'doc.became_read_only', 4013: 'doc.too_large', 4014: 'doc.no_room' };
          notice.textContent = t(why[code]);
          notice.hidden = false;
          if (code === 4003) writable = false;
          open();
          return;
        }
        // Access ended (or the page broke a rule): say so where "connected" stood, stop
        // offering the tools, and keep what is on the screen readable.
        stopWriting(closedText(code));
      },
    });
  };

  into.append(
    ...before,
    heading(title),
    status,
    notice,
    readAloudButton(() => mount.innerText, t('read_aloud.document')),
    h('div', { class: 'doc-layout' },
      h('div', { class: 'doc-main' }, toolbar.el, picker, hint, mount),
      h('aside', { class: 'doc-side', 'aria-labelledby': 'peers-h' },
        h('h2', { id: 'peers-h' }, t('doc.here')),
        peersList,
        h('h2', { id: 'export-h' }, t('doc.export')),
        exportLinks(name),
        me.role === 'teacher' ? teacherTools({ name, title, lessonId: fromLesson }) : null)),
  );
  open();
  return {
    title,
    destroy: () => session?.destroy(),
    /** The teacher locked or unlocked a document: if it is this one, the editor follows. */
    settingsChanged(msg) {
      if (msg.doc !== name || writable === !msg.read_only) return;
      writable = !msg.read_only;
      session?.destroy();
      session = null;
      notice.textContent = t(writable ? 'doc.became_writable' : 'doc.locked_now');
      notice.hidden = false;
      open();
    },
    /** The lesson's connection closed for good (the lesson ended, the pupil was removed). */
    accessEnded(code) {
      notice.textContent = closedText(code, 'pupil.ended');
      notice.hidden = false;
    },
  };
}

/** The document page for teachers (pupils open documents inside their lesson page). */
export async function docView({ main, me, params, setTitle }) {
  const name = params.get('name') ?? '';
  const fromLesson = params.get('lesson');
  const back = fromLesson ? `/teacher/lesson?id=${encodeURIComponent(fromLesson)}` : '/teacher';
  const panel = await docPanel({
    into: main,
    me,
    name,
    fromLesson,
    before: [h('p', {}, h('a', { href: back, 'data-link': true }, t('doc.back')))],
  });
  if (!panel) return undefined;
  setTitle(panel.title);
  return () => panel.destroy();
}
