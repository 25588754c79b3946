// Loading what a page is about; if that fails (gone, not yours), the page says so instead.
import { h } from './dom.js';
import { heading } from './shell.js';
import { t, errorText } from '../i18n.js';
import { get, getKept } from '../protocol/api.js';

/**
 * GETs `path`; on failure draws a "not found" page into `main` and returns null. With `kept`,
 * the browser's last answer stands in while the box cannot be reached.
 */
export async function loadOrExplain(main, path, { kept = false } = {}) {
  try {
    return await (kept ? getKept(path) : get(path));
  } catch (failure) {
    main.append(heading(t('notfound.title')), h('p', { role: 'alert' }, errorText(failure)));
    return null;
  }
}
