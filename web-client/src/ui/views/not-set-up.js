// Shown on `/` before the first teacher exists.
import { h } from '../dom.js';
import { heading } from '../shell.js';
import { t } from '../../i18n.js';

export function notSetUpView({ main, setTitle }) {
  setTitle(t('notsetup.title'));
  main.append(heading(t('notsetup.title')), h('p', {}, t('notsetup.body')));
}
