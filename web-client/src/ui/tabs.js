// Tabs (WAI-ARIA tabs pattern): one panel shown at a time, the arrow keys move between tabs,
// the choice is remembered for the session so a reload keeps the teacher where she was.
import { h } from './dom.js';

/**
 * `items`: `[{ id, title, content }]`. Returns `{ el, show(id) }`; `show` selects a tab as if
 * it were clicked.
 */
export function tabs({ label, items, storageKey }) {
  const buttons = new Map();
  const panels = new Map();
  const list = h('div', { role: 'tablist', 'aria-label': label, class: 'tablist' });
  const show = (id, { focus = false } = {}) => {
    if (!buttons.has(id)) return;
    for (const [other, button] of buttons) {
      const on = other === id;
      button.setAttribute('aria-selected', on ? 'true' : 'false');
      button.tabIndex = on ? 0 : -1;
      panels.get(other).hidden = !on;
    }
    if (focus) buttons.get(id).focus();
    try {
      sessionStorage.setItem(storageKey, id);
    } catch {
      // Storage may be off; the first tab is fine then.
    }
  };
  for (const item of items) {
    const button = h('button', {
      type: 'button', role: 'tab', id: `tab-${item.id}`, 'aria-controls': `panel-${item.id}`, class: 'tab',
      onclick: () => show(item.id),
    }, item.title);
    buttons.set(item.id, button);
    panels.set(item.id, h('div', { role: 'tabpanel', id: `panel-${item.id}`, 'aria-labelledby': `tab-${item.id}`, class: 'tabpanel' }, item.content));
    list.append(button);
  }
  list.addEventListener('keydown', (event) => {
    const ids = [...buttons.keys()];
    const at = ids.indexOf(document.activeElement?.id?.replace(/^tab-/, ''));
    if (at < 0) return;
    const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: ids.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    show(ids[(next + ids.length) % ids.length], { focus: true });
  });
  let first = items[0]?.id;
  try {
    const kept = sessionStorage.getItem(storageKey);
    if (kept && buttons.has(kept)) first = kept;
  } catch {
    // As above.
  }
  show(first);
  return { el: h('div', { class: 'tabs' }, list, [...panels.values()]), show };
}
