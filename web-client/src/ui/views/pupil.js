// The pupil's lesson page: their documents, their messages with the teacher (and the chats),
// and the place of the live stream.
import { forgetOnLogout } from '../../editor/local.js';
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

export async function pupilView({ main, me, navigate, setTitle }) {
  setTitle(t('pupil.title', { name: me.lesson.class_name }));
  const status = h('p', { class: 'connection', role: 'status' }, t('live.connecting'));
  const ended = h('div', { role: 'alert', class: 'notice', hidden: true });

  const notice = h('p', { class: 'form-message', role: 'alert', hidden: true });
  let messagesPane;
  let docsList;
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
        for (const control of main.querySelectorAll('.panes button, .panes textarea, .panes input, .panes select, .pupil-stream button')) control.disabled = true;
      }
    },
  });

  const pane = (id, title, body) => h('section', { class: 'pane', 'aria-labelledby': id }, h('h2', { id }, title), typeof body === 'string' ? h('p', { class: 'placeholder' }, body) : body);
  const docs = await pupilDocs(me);
  docsList = docs;
  // `append` would write a null as the text "null": leave the absent parts out.
  main.append(...[
    heading(t('pupil.title', { name: me.lesson.class_name })),
    h('p', {}, t('pupil.hello', { name: me.pupil.name }), me.pupil.at_home ? ` ${t('pupil.at_home_note')}` : ''),
    status,
    ended,
    // At home the lesson's picture is the main thing: first and full width.
    me.pupil.at_home ? h('div', { class: 'stream-first' }, pane('stream-h', t('pupil.stream'), stream.el)) : null,
    h('div', { class: 'panes' },
      pane('docs-h', t('pupil.docs'), docs),
      pane('messages-h', t('pupil.messages'), h('div', {}, notice, messagesPane.el)),
      me.pupil.at_home ? null : pane('stream-h', t('pupil.stream'), stream.el)),
    h('p', { class: 'button-row' }, h('button', { type: 'button', onclick: async () => {
      await post('/logout').catch(() => {});
      await forgetOnLogout();
      navigate('/join');
    } }, t('pupil.leave')),
    // A pupil on the class list may take everything the box keeps about them.
    me.pupil.rostered ? h('a', { class: 'button', href: `/api/me/export?lang=${document.documentElement.lang || 'nb'}`, download: '' }, t('pupil.export_mine')) : null),
  ].filter(Boolean));
  return () => {
    live.close();
    media.close();
    stream.stop();
  };
}
