// Opened by scanning a login card: /card#<secret>. The secret stays in the fragment, which the
// browser never sends in a URL; it goes to the server once, in a POST body.
import { h, formMessage } from '../dom.js';
import { heading } from '../shell.js';
import { t, errorText } from '../../i18n.js';
import { post } from '../../protocol/api.js';

export async function cardView({ main, navigate, setTitle }) {
  setTitle(t('card.title'));
  const secret = decodeURIComponent(location.hash.slice(1));
  const message = formMessage();
  const atHome = h('input', { type: 'checkbox', id: 'card-at-home' });
  const signIn = async () => {
    message.show('');
    try {
      await post('/card-login', { secret, at_home: atHome.checked });
      history.replaceState(null, '', '/card');
      navigate('/lesson');
    } catch (failure) {
      message.show(errorText(failure));
    }
  };
  main.append(
    heading(t('card.title')),
    secret
      ? h('form', { onsubmit: (e) => { e.preventDefault(); signIn(); } },
        h('p', {}, t('card.intro')),
        h('div', { class: 'check' }, atHome, h('label', { for: 'card-at-home' }, t('join.at_home'))),
        message.el,
        h('button', { type: 'submit', class: 'primary' }, t('card.submit')))
      : h('p', { role: 'alert' }, t('error.invalid_card')),
    h('p', { class: 'aside' }, h('a', { href: '/join', 'data-link': true }, t('card.use_code'))),
  );
}
