// Paired boxes: show a pairing code here, or type another box's code; then choose what each
// paired box receives, see when it last synced, unpair it.
import { h, field, formMessage, nextId } from '../dom.js';
import { heading } from '../shell.js';
import { t, errorText } from '../../i18n.js';
import { get, post, put, del } from '../../protocol/api.js';

export async function boxesView({ main, params, setTitle }) {
  setTitle(t('paired.title'));
  // `/classes` lists the teacher's own classes: the ones she may share.
  const [overview, { classes: ownClasses }] = await Promise.all([get('/boxes/paired'), get('/classes')]);
  const when = new Intl.DateTimeFormat(document.documentElement.lang || 'nb', { dateStyle: 'medium', timeStyle: 'short' });
  const ownAddress = `${location.hostname}:${overview.port}`;

  const codeOutput = h('div', { 'aria-live': 'polite' });
  const makeCode = h('button', { type: 'button', onclick: async () => {
    try {
      const made = await post('/boxes/pairing');
      codeOutput.replaceChildren(
        h('p', { class: 'pairing-code' }, t('paired.code_is', { code: made.code })),
        h('p', {}, t('paired.code_details', { address: ownAddress, minutes: made.valid_minutes })),
        h('p', {}, h('code', { class: 'fingerprint' }, made.fingerprint)),
      );
    } catch (failure) {
      codeOutput.replaceChildren(h('p', { role: 'alert' }, errorText(failure)));
    }
  } }, t('paired.make_code'));

  // "Pair with this box" on the start page's list of boxes nearby fills in its address.
  const address = field({ label: t('paired.address'), name: 'address', value: params.get('address') ?? '', hint: t('paired.address_hint'), attrs: { maxlength: '255', autocomplete: 'off' } });
  const code = field({ label: t('paired.code'), name: 'code', hint: t('paired.code_hint'), attrs: { maxlength: '20', autocomplete: 'off', autocapitalize: 'characters' } });
  const fingerprint = field({ label: t('paired.fingerprint_field'), name: 'fingerprint', required: false, hint: t('paired.fingerprint_hint'), attrs: { maxlength: '100', autocomplete: 'off' } });
  const pairMessage = formMessage();
  const pairForm = h('form', { novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    pairMessage.show('');
    address.showError('');
    code.showError('');
    if (!address.input.value.trim()) return address.showError(t('paired.address_missing'));
    if (!code.input.value.trim()) return code.showError(t('paired.code_missing'));
    try {
      const paired = await post('/boxes/paired', {
        address: address.input.value.trim(),
        code: code.input.value.trim(),
        fingerprint: fingerprint.input.value.trim() || null,
      });
      pairForm.reset();
      pairMessage.show(t('paired.paired_ok', { name: paired.name }));
      list.append(pairedItem(paired));
      empty.hidden = true;
    } catch (failure) {
      pairMessage.show(errorText(failure));
    }
  } }, address.wrapper, code.wrapper, fingerprint.wrapper, pairMessage.el, h('button', { type: 'submit', class: 'primary' }, t('paired.pair')));

  const list = h('ul', { class: 'cards-list paired-list' });
  const empty = h('p', { hidden: overview.paired.length > 0 }, t('paired.none'));

  function pairedItem(box) {
    const status = h('p', { 'aria-live': 'polite' });
    const showStatus = (b) => status.replaceChildren(
      b.last_sync_ms ? t('paired.last_sync', { when: when.format(new Date(b.last_sync_ms)) }) : t('paired.never'),
      b.last_error ? ` ${t(`paired.error.${b.last_error}`)}` : '',
    );
    showStatus(box);
    const everythingId = nextId('everything');
    const everything = h('input', { type: 'checkbox', id: everythingId, checked: box.shares.everything });
    const picks = ownClasses.map((c) => {
      const id = nextId('share');
      const input = h('input', { type: 'checkbox', id, value: c.id, checked: box.shares.classes.includes(c.id) });
      return { input, row: h('div', { class: 'check' }, input, h('label', { for: id }, c.name)) };
    });
    const saved = formMessage();
    const item = h('li', {},
      h('h3', {}, box.name),
      h('p', {}, t('paired.address_is', { address: box.address })),
      h('p', {}, t('paired.fingerprint_is'), ' ', h('code', { class: 'fingerprint' }, box.fingerprint)),
      status,
      h('form', { onsubmit: async (event) => {
        event.preventDefault();
        try {
          const updated = await put(`/boxes/paired/${encodeURIComponent(box.box_id)}/shares`, {
            everything: everything.checked,
            classes: picks.filter((p) => p.input.checked).map((p) => p.input.value),
          });
          showStatus(updated);
          saved.show(t('paired.saved'));
        } catch (failure) {
          saved.show(errorText(failure));
        }
      } },
      h('fieldset', {},
        h('legend', {}, t('paired.receives', { name: box.name })),
        h('div', { class: 'check' }, everything, h('label', { for: everythingId }, t('paired.everything'))),
        ...picks.map((p) => p.row),
        ownClasses.length ? null : h('p', {}, t('dashboard.no_classes'))),
      saved.el,
      h('button', { type: 'submit' }, t('paired.save'))),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm(t('paired.confirm_unpair', { name: box.name }))) return;
        try {
          await del(`/boxes/paired/${encodeURIComponent(box.box_id)}`);
          item.replaceWith(h('li', { role: 'status' }, t('paired.unpaired', { name: box.name })));
        } catch (failure) {
          saved.show(errorText(failure));
        }
      } }, t('paired.unpair', { name: box.name })));
    return item;
  }
  list.append(...overview.paired.map(pairedItem));

  main.append(
    heading(t('paired.title')),
    h('p', {}, t('paired.intro')),
    h('section', { 'aria-labelledby': 'this-box-h' },
      h('h2', { id: 'this-box-h' }, t('paired.this_box')),
      h('p', {}, t('paired.name_is', { name: overview.name })),
      h('p', {}, t('paired.fingerprint_is'), ' ', h('code', { class: 'fingerprint' }, overview.fingerprint))),
    h('section', { 'aria-labelledby': 'show-code-h' },
      h('h2', { id: 'show-code-h' }, t('paired.show_code')),
      h('p', {}, t('paired.show_code_intro')), makeCode, codeOutput),
    h('section', { 'aria-labelledby': 'enter-code-h' },
      h('h2', { id: 'enter-code-h' }, t('paired.enter_code')), pairForm),
    h('section', { 'aria-labelledby': 'paired-h' },
      h('h2', { id: 'paired-h' }, t('paired.list')), empty, list),
  );
}
