// The pupil's lesson page: their documents, their messages with the teacher (and the chats),
// and the place of the live stream. A document opens inside it: the hand, the messages, the
// announcements and the live picture stay beside the text, on the same connection.
import { forgetOnLogout, OUTBOX_KEY } from '../../editor/local.js';
import { readStored, writeStored } from '../../stored.js';
import { h } from '../dom.js';
import { announce } from '../announce.js';
import { heading } from '../shell.js';
import { t, closedText } from '../../i18n.js';
import { post } from '../../protocol/api.js';
import { connectLive } from '../../protocol/live.js';
import { pupilDocs } from './doc-list.js';
import { messageStore } from '../../protocol/messages.js';
import { pupilMessages } from '../messages/pupil.js';
import { mediaClient } from '../../protocol/media.js';
import { pupilStream } from '../media/pupil-stream.js';
import { docPanel } from './doc.js';

/** The pupil's unsent messages (and their threads' names), in this browser until the box has
 * them; a write that storage refuses still waits in the page. */
const keptOutbox = {
  load: () => readStored(OUTBOX_KEY, {}),
  save: (kept) => writeStored(OUTBOX_KEY, kept),
};

export async function pupilView({ main, me, params, path, navigate, setTitle }) {
  const status = h('p', { class: 'connection', role: 'status' }, t('live.connecting'));
  const ended = h('div', { role: 'alert', class: 'notice', hidden: true });

  const notice = h('p', { class: 'form-message', role: 'alert', hidden: true });
  let messagesPane;
  let docsList;
  // The page's parts (made once the documents are listed) and the open document, if any.
  let docsPane;
  let messagesPaneEl;
  let streamPane;
  let doc = null;
  // Redraws the list of documents; `tell` announces the ones that are new.
  const refreshDocs = async (tell) => {
    if (!docsList) return;
    const before = new Set([...docsList.querySelectorAll('a')].map((a) => a.getAttribute('href')));
    const fresh = await pupilDocs(me);
    docsList.replaceWith(docsList = fresh);
    if (!tell) return;
    for (const a of fresh.querySelectorAll('a')) {
      if (!before.has(a.getAttribute('href'))) announce(t('pupil.new_doc', { title: a.textContent }));
    }
  };
  const store = messageStore({
    keep: keptOutbox,
    onChange: (type, msg) => {
      messagesPane?.update(type, msg);
      // A new group brings a group document.
      if (type === 'my_group') refreshDocs(false);
    },
    onRefused: (msg) => {
      notice.textContent = t(`messages.refused_${msg.code}`);
      notice.hidden = false;
    },
  });
  const showError = (text) => { notice.textContent = text; notice.hidden = false; };
  messagesPane = pupilMessages({ store, onError: showError });
  let stream;
  const media = mediaClient({
    onTrack: (track, mediaStream) => stream.onTrack(track, mediaStream),
    onRefused: () => showError(t('media.refused')),
  });
  stream = pupilStream({ media, atHome: me.pupil.at_home, onError: showError });
  const live = connectLive({
    onOpen: (send) => {
      store.opened(send);
      media.opened(send);
    },
    onMessage: (msg) => {
      if (media.handle(msg)) {
        stream.update(msg);
        return;
      }
      if (msg.type === 'welcome') status.textContent = t('live.connected');
      if (msg.type === 'docs_added') refreshDocs(true);
      if (msg.type === 'doc_settings') doc?.settingsChanged(msg);
      store.handle(msg);
    },
    onState: (state, code) => {
      if (state === 'reconnecting') status.textContent = t('live.reconnecting');
      if (state === 'closed') {
        status.textContent = '';
        ended.hidden = false;
        ended.replaceChildren(
          h('p', {}, closedText(code, 'pupil.ended')),
          code === 4005
            ? h('a', { href: '/card', 'data-link': true }, t('access.sign_in_again'))
            : h('a', { href: '/join', 'data-link': true }, t('pupil.join_again')));
        // Nothing on the page works any more: say so instead of controls that do nothing.
        for (const control of [messagesPaneEl, streamPane, docsPane].filter(Boolean).flatMap((part) => [...part.querySelectorAll('button, textarea, input, select')])) control.disabled = true;
        doc?.accessEnded(code);
      }
    },
  });

  const pane = (id, title, body) => h('section', { class: 'pane', 'aria-labelledby': id }, h('h2', { id }, title), typeof body === 'string' ? h('p', { class: 'placeholder' }, body) : body);
  const docs = await pupilDocs(me);
  docsList = docs;
  // Built once: they move between the two layouts without losing what they hold.
  docsPane = pane('docs-h', t('pupil.docs'), docs);
  messagesPaneEl = pane('messages-h', t('pupil.messages'), h('div', {}, notice, messagesPane.el));
  streamPane = pane('stream-h', t('pupil.stream'), stream.el);
  const footer = h('p', { class: 'button-row' }, h('button', { type: 'button', onclick: async () => {
    await post('/logout').catch(() => {});
    await forgetOnLogout();
    navigate('/join');
  } }, t('pupil.leave')),
  // A pupil on the class list may take everything the box keeps about them.
  me.pupil.rostered ? h('a', { class: 'button', href: `/api/me/export?lang=${document.documentElement.lang || 'nb'}`, download: '' }, t('pupil.export_mine')) : null);

  const lessonTitle = t('pupil.title', { name: me.lesson.class_name });
  const showLesson = () => {
    setTitle(lessonTitle);
    // `append` would write a null as the text "null": leave the absent parts out.
    main.replaceChildren(...[
      heading(lessonTitle),
      h('p', {}, t('pupil.hello', { name: me.pupil.name }), me.pupil.at_home ? ` ${t('pupil.at_home_note')}` : ''),
      status,
      ended,
      // At home the lesson's picture is the main thing: first and full width.
      me.pupil.at_home ? h('div', { class: 'stream-first' }, streamPane) : null,
      h('div', { class: 'panes' }, docsPane, messagesPaneEl, me.pupil.at_home ? null : streamPane),
      footer,
    ].filter(Boolean));
  };
  const showDoc = async (name) => {
    const area = h('div', { class: 'lesson-doc' });
    main.replaceChildren(
      h('p', { class: 'lesson-context' }, h('a', { href: '/lesson' }, t('doc.back')), ' · ', lessonTitle),
      status,
      ended,
      h('div', { class: 'lesson-with-doc' },
        area,
        h('aside', { class: 'lesson-side', 'aria-label': t('pupil.side_panel') }, streamPane, messagesPaneEl)));
    doc = await docPanel({ into: area, me, name });
    setTitle(doc?.title ?? lessonTitle);
  };
  /** Shows `href` (`/lesson` or `/doc?name=…`) here, keeping the lesson's connection. */
  const go = async (href, { push = true } = {}) => {
    doc?.destroy();
    doc = null;
    const url = new URL(href, location.origin);
    if (push) history.pushState(null, '', url.pathname + url.search);
    if (url.pathname === '/doc') await showDoc(url.searchParams.get('name') ?? '');
    else showLesson();
    main.querySelector('h1')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  };
  // Links to documents and back stay inside the page (before the router sees them).
  main.addEventListener('click', (event) => {
    const link = event.target.closest?.('a[href^="/doc?"], a[href="/lesson"]');
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    event.stopPropagation();
    go(link.getAttribute('href'));
  });
  if (path === '/doc') await showDoc(params.get('name') ?? '');
  else showLesson();
  return () => {
    doc?.destroy();
    live.close();
    media.close();
    stream.stop();
  };
}
