// A printable sheet of login cards: one per pupil, name, QR code and the code to type.
import { h } from '../dom.js';
import { heading } from '../shell.js';
import { loadOrExplain } from '../load.js';
import { t } from '../../i18n.js';

export async function cardsView({ main, params, setTitle }) {
  const classId = params.get('class') ?? '';
  const sheet = await loadOrExplain(main, `/classes/${encodeURIComponent(classId)}/cards`);
  if (!sheet) return undefined;
  setTitle(t('cards.title', { name: sheet.class.name }));
  main.append(
    heading(t('cards.title', { name: sheet.class.name })),
    h('p', { class: 'no-print' }, t('cards.intro')),
    h('p', { class: 'no-print' }, h('button', { type: 'button', class: 'primary', onclick: () => window.print() }, t('cards.print'))),
    h('ul', { class: 'login-cards' }, sheet.cards.map((card) => h('li', { class: 'login-card' },
      h('p', { class: 'card-class' }, sheet.class.name),
      h('p', { class: 'card-name' }, card.name),
      h('img', { src: `/api/classes/${encodeURIComponent(sheet.class.id)}/pupils/${encodeURIComponent(card.id)}/card.svg`, alt: t('cards.qr_alt', { name: card.name }), width: '160', height: '160' }),
      h('p', { class: 'card-code' }, t('cards.code', { code: card.code })),
      h('p', { class: 'card-help' }, t('cards.help'))))),
  );
}
