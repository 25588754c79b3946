// For the classroom projector: the join code, big, and a QR code of the join link.
import { h } from '../dom.js';
import { heading } from '../shell.js';
import { loadOrExplain } from '../load.js';
import { t } from '../../i18n.js';

export async function projectorView({ main, params, setTitle }) {
  const id = params.get('id') ?? '';
  const lesson = await loadOrExplain(main, `/lessons/${encodeURIComponent(id)}`);
  if (!lesson) return undefined;
  setTitle(t('projector.title'));
  main.classList.add('projector');
  main.append(
    heading(t('projector.title')),
    h('p', { class: 'projector-step' }, t('projector.step1', { url: lesson.join_url.split('/join')[0] })),
    h('p', { class: 'join-code huge', 'aria-label': t('lesson.code_spoken', { code: lesson.code.split('').join(' ') }) }, lesson.code),
    h('img', { class: 'join-qr', src: `/api/lessons/${encodeURIComponent(lesson.id)}/qr.svg`, alt: t('projector.qr_alt', { url: lesson.join_url }), width: '320', height: '320' }),
    h('p', { class: 'projector-step' }, t('projector.step2')),
    h('p', {}, h('a', { href: `/teacher/lesson?id=${encodeURIComponent(lesson.id)}`, 'data-link': true }, t('projector.back'))),
  );
}
