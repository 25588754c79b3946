// Loading what a page is about; if that fails (gone, not yours), the page says so instead.
import { h } from './dom.js';
import { heading } from './shell.js';
import { t, errorText } from '../i18n.js';
import { get } from '../protocol/api.js';

/** GETs `path`; on failure draws a "not found" page into `main` and returns null. */
export async function loadOrExplain(main, path) {
  try {
    return await get(path);
  } catch (failure) {
    main.append(heading(t('notfound.title')), h('p', { role: 'alert' }, errorText(failure)));
    return null;
  }
}
