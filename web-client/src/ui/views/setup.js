// Creating a teacher account from a one-time link (first start, or an invitation).
import { h, field, formMessage } from '../dom.js';
import { heading } from '../shell.js';
import { t, errorText } from '../../i18n.js';
import { get, post } from '../../protocol/api.js';

export async function setupView({ main, params, navigate, setTitle }) {
  setTitle(t('setup.title'));
  const token = params.get('token') ?? '';
  let invited;
  try {
    invited = await get(`/setup?token=${encodeURIComponent(token)}`);
  } catch (failure) {
    main.append(heading(t('setup.title')), h('p', { role: 'alert' }, errorText(failure)));
    return;
  }
  const name = field({ label: t('setup.name'), name: 'username', autocomplete: 'username', value: invited.name ?? '', attrs: { maxlength: '60' } });
  const password = field({ label: t('setup.password'), name: 'password', type: 'password', autocomplete: 'new-password', hint: t('setup.password_hint'), attrs: { minlength: '8' } });
  const message = formMessage();
  main.append(
    heading(t('setup.title')),
    h('p', {}, invited.kind === 'first_teacher' ? t('setup.intro_first') : t('setup.intro_invite')),
    h('form', { novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      name.showError('');
      password.showError('');
      message.show('');
      try {
        await post('/setup', { token, name: name.input.value, password: password.input.value });
        navigate('/teacher', { replace: true });
      } catch (failure) {
        if (failure.field === 'password') password.showError(t('setup.password_hint'));
        else if (failure.field === 'name' || failure.code === 'name_taken') name.showError(errorText(failure));
        else message.show(errorText(failure));
      }
    } }, name.wrapper, password.wrapper, message.el, h('button', { type: 'submit', class: 'primary' }, t('setup.submit'))),
  );
}
