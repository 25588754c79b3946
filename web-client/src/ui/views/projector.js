// For the classroom projector: the join code, big, and QR codes of the join link: by the box's
// name (`<box>.local`, for devices that find it by name) and by its address. In a class split
// over two rooms (a lesson whose class came from a paired box), also the other room's live
// stream, which this box relays, for the whole room to see.
import { h } from '../dom.js';
import { heading } from '../shell.js';
import { loadOrExplain } from '../load.js';
import { t } from '../../i18n.js';
import { connectLive } from '../../protocol/live.js';
import { mediaClient } from '../../protocol/media.js';
import { pupilStream } from '../media/pupil-stream.js';

/** A QR code of `url`, with a caption saying which way it goes, if there are two. */
function qr(src, url, caption) {
  return h('figure', {},
    h('img', { class: 'join-qr', src, alt: t('projector.qr_alt', { url }), width: '320', height: '320' }),
    caption ? h('figcaption', {}, caption) : null);
}

/** The other room's stream, as the lesson's teacher receives it here; `stop()` ends it. */
function otherRoom(lesson) {
  let stream;
  const notice = h('p', { class: 'notice', role: 'status', hidden: true });
  const showError = (text) => { notice.textContent = text; notice.hidden = false; };
  const media = mediaClient({
    onTrack: (track, mediaStream) => stream.onTrack(track, mediaStream),
    onRefused: () => showError(t('media.refused')),
  });
  stream = pupilStream({ media, atHome: false, onError: showError });
  const live = connectLive({
    lessonId: lesson.id,
    onOpen: (send) => media.opened(send),
    onMessage: (msg) => { if (media.handle(msg)) stream.update(msg); },
  });
  const el = h('section', { class: 'projector-stream', 'aria-labelledby': 'other-room-h' },
    h('h2', { id: 'other-room-h' }, t('projector.stream_title', { box: lesson.relayed_from })),
    notice, stream.el);
  return {
    el,
    stop() {
      live.close();
      media.close();
      stream.stop();
    },
  };
}

export async function projectorView({ main, params, setTitle }) {
  const id = params.get('id') ?? '';
  const lesson = await loadOrExplain(main, `/lessons/${encodeURIComponent(id)}`);
  if (!lesson) return undefined;
  setTitle(t('projector.title'));
  // What the class sees: no menu, no language choice, no footer — only how to join.
  document.body.classList.add('projector-mode');
  main.classList.add('projector');
  const ownWindow = Boolean(window.opener);
  const fullscreen = h('button', { type: 'button', class: 'small', onclick: () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else document.documentElement.requestFullscreen?.().catch(() => {});
  } }, t('projector.fullscreen'));
  const onFullscreen = () => { fullscreen.hidden = Boolean(document.fullscreenElement); };
  document.addEventListener('fullscreenchange', onFullscreen);
  const relayed = lesson.relayed_from ? otherRoom(lesson) : null;
  main.append(
    heading(t('projector.title')),
    h('div', { class: 'projector-body' },
      h('div', { class: 'projector-words' },
        h('p', { class: 'projector-step' }, t('projector.step1', { url: (lesson.local_join_url ?? lesson.join_url).split('/join')[0] })),
        h('p', { class: 'join-code huge', 'aria-label': t('lesson.code_spoken', { code: lesson.code.split('').join(' ') }) }, lesson.code),
        h('p', { class: 'projector-step' }, t('projector.step2'))),
      h('div', { class: 'join-qrs' },
        lesson.local_join_url ? qr(`/api/lessons/${encodeURIComponent(lesson.id)}/qr.svg?by=local`, lesson.local_join_url, t('projector.by_name')) : null,
        qr(`/api/lessons/${encodeURIComponent(lesson.id)}/qr.svg`, lesson.join_url, lesson.local_join_url ? t('projector.by_address', { url: lesson.join_url.split('/join')[0] }) : null))),
    h('p', { class: 'projector-controls' },
      fullscreen, ' ',
      // In its own window the lesson page is still open behind it: close this one.
      ownWindow
        ? h('button', { type: 'button', class: 'small', onclick: () => window.close() }, t('projector.close'))
        : h('a', { href: `/teacher/lesson?id=${encodeURIComponent(lesson.id)}`, 'data-link': true }, t('projector.back'))),
    ...(relayed ? [relayed.el] : []),
  );
  return () => {
    relayed?.stop();
    document.removeEventListener('fullscreenchange', onFullscreen);
    document.body.classList.remove('projector-mode');
  };
}
