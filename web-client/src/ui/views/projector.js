// For the classroom projector: the join code, big, and a QR code of the join link.
import { h } from '../dom.js';
import { heading } from '../shell.js';
import { t, errorText } from '../../i18n.js';
import { get } from '../../protocol/api.js';

export async function projectorView({ main, params, setTitle }) {
  const id = params.get('id') ?? '';
  let lesson;
  try {
    lesson = await get(`/lessons/${encodeURIComponent(id)}`);
  } catch (failure) {
    main.append(heading(t('notfound.title')), h('p', { role: 'alert' }, errorText(failure)));
    return;
  }
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
