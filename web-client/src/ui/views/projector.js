// For the classroom projector: the join code, big, and QR codes of the join link: by the box's
// name (`<box>.local`, for devices that find it by name) and by its address.
import { h } from '../dom.js';
import { heading } from '../shell.js';
import { loadOrExplain } from '../load.js';
import { t } from '../../i18n.js';

/** A QR code of `url`, with a caption saying which way it goes, if there are two. */
function qr(src, url, caption) {
  return h('figure', {},
    h('img', { class: 'join-qr', src, alt: t('projector.qr_alt', { url }), width: '320', height: '320' }),
    caption ? h('figcaption', {}, caption) : null);
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
  );
  return () => {
    document.removeEventListener('fullscreenchange', onFullscreen);
    document.body.classList.remove('projector-mode');
  };
}
