// Teacher login.
import { h, field, formMessage } from '../dom.js';
import { heading } from '../shell.js';
import { t, errorText, setLang } from '../../i18n.js';
import { post } from '../../protocol/api.js';

export function loginView({ main, navigate, setTitle }) {
  setTitle(t('login.title'));
  const name = field({ label: t('login.name'), name: 'username', autocomplete: 'username' });
  const password = field({ label: t('login.password'), name: 'password', type: 'password', autocomplete: 'current-password' });
  const message = formMessage();
  main.append(
    heading(t('login.title')),
    h('form', { onsubmit: async (event) => {
      event.preventDefault();
      message.show('');
      try {
        const me = await post('/login', { name: name.input.value, password: password.input.value });
        if (me.teacher?.lang) setLang(me.teacher.lang);
        navigate('/teacher');
      } catch (failure) {
        message.show(errorText(failure));
        password.input.value = '';
        password.input.focus();
      }
    } }, name.wrapper, password.wrapper, message.el, h('button', { type: 'submit', class: 'primary' }, t('login.submit'))),
  );
}
