// A pupil joins a lesson with the code on the board and their name.
import { h, field, formMessage } from '../dom.js';
import { heading } from '../shell.js';
import { t, errorText } from '../../i18n.js';
import { post } from '../../protocol/api.js';

export function joinView({ main, params, navigate, setTitle }) {
  setTitle(t('join.title'));
  const code = field({ label: t('join.code'), name: 'code', value: params.get('code') ?? '', autocomplete: 'off', hint: t('join.code_hint'), attrs: { autocapitalize: 'characters', spellcheck: 'false', maxlength: '12', class: 'code-input' } });
  const name = field({ label: t('join.name'), name: 'name', autocomplete: 'given-name', attrs: { maxlength: '60' } });
  const atHome = h('input', { type: 'checkbox', id: 'at-home', name: 'at_home' });
  const message = formMessage();
  // Set when the box said the name is someone's on the class list and the pupil answered
  // "that is not me".
  let notOnClassList = false;
  const twin = h('div', { class: 'notice', role: 'alert', hidden: true });

  // The name typed is a pupil's on the class list: is it them? Then the code printed on their
  // card signs them in (a PC without a camera cannot scan its QR code), and the teacher sees
  // one person, not two; if not, they join as a guest after all.
  function askIfOnClassList(listName) {
    const cardCode = field({ label: t('join.card_code'), name: 'card_code', autocomplete: 'off', hint: t('join.card_code_hint'), attrs: { autocapitalize: 'characters', spellcheck: 'false', maxlength: '12', class: 'code-input' } });
    const signIn = async () => {
      cardCode.showError('');
      if (!cardCode.input.value.trim()) return cardCode.showError(t('join.card_code_missing'));
      try {
        await post('/join', { code: code.input.value, name: name.input.value, at_home: atHome.checked, card_code: cardCode.input.value });
        navigate('/lesson');
      } catch (failure) {
        cardCode.showError(failure.code === 'invalid_card' ? t('join.card_code_wrong', { name: listName }) : errorText(failure));
      }
      return undefined;
    };
    cardCode.input.addEventListener('keydown', (event) => {
      // Enter here signs in with the code, not the form's "join as a guest".
      if (event.key === 'Enter') {
        event.preventDefault();
        signIn();
      }
    });
    twin.hidden = false;
    twin.replaceChildren(
      h('p', {}, t('join.on_class_list', { name: listName })),
      cardCode.wrapper,
      h('p', {}, h('button', { type: 'button', class: 'primary', onclick: signIn }, t('join.card_code_submit'))),
      h('p', {}, h('button', { type: 'button', onclick: () => {
        notOnClassList = true;
        twin.hidden = true;
        form.requestSubmit();
      } }, t('join.not_me'))));
    cardCode.input.focus();
  }

  const form = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    code.showError('');
    name.showError('');
    message.show('');
    if (!code.input.value.trim()) return code.showError(t('join.code_missing'));
    if (!name.input.value.trim()) return name.showError(t('join.name_missing'));
    try {
      await post('/join', { code: code.input.value, name: name.input.value, at_home: atHome.checked, not_on_class_list: notOnClassList });
      navigate('/lesson');
    } catch (failure) {
      if (failure.code === 'on_class_list') askIfOnClassList(failure.detail?.name ?? name.input.value);
      else if (['wrong_code', 'lesson_ended'].includes(failure.code)) code.showError(errorText(failure));
      else if (failure.field === 'name') name.showError(t('join.name_invalid'));
      else message.show(errorText(failure));
    }
  } },
  code.wrapper,
  name.wrapper,
  h('div', { class: 'check' }, atHome, h('label', { for: 'at-home' }, t('join.at_home'))),
  message.el,
  twin,
  h('button', { type: 'submit', class: 'primary' }, t('join.submit')));

  main.append(
    heading(t('join.title')),
    h('p', {}, t('join.intro')),
    form,
    h('p', { class: 'aside' }, t('join.card_hint')),
    h('p', { class: 'aside' }, h('a', { href: '/login', 'data-link': true }, t('join.teacher_link'))),
  );
}
