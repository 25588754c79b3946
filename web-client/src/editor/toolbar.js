// The formatting toolbar: one Tab stop, arrow keys move between buttons (WAI-ARIA toolbar
// pattern); toggles report aria-pressed; Alt+F10 in the text jumps here.
import { h } from '../ui/dom.js';
import { t } from '../i18n.js';
import { TOOLS, setLink, normaliseHref } from './commands.js';

/** `onImage(view)` handles the picture button (the page knows the document and asks for alt text). */
export function createToolbar({ label, getView, onImage }) {
  const buttons = TOOLS.map((tool) => {
    const button = h('button', {
      type: 'button',
      class: `tool tool-${tool.key}`,
      tabindex: '-1',
      'aria-keyshortcuts': tool.shortcut?.replace('Mod', navigator.platform.startsWith('Mac') ? 'Meta' : 'Control').replace(/-/g, '+'),
      onclick: () => run(tool),
    }, t(`editor.${tool.key}`));
    if (tool.active) button.setAttribute('aria-pressed', 'false');
    return { tool, button };
  });
  buttons[0].button.tabIndex = 0;

  const el = h('div', { role: 'toolbar', class: 'editor-toolbar', 'aria-label': label, onkeydown: move }, buttons.map((b) => b.button));

  function run(tool) {
    const view = getView();
    if (!view) return;
    if (tool.key === 'link') {
      const current = view.state.selection;
      if (current.empty) return;
      const answer = prompt(t('editor.link_prompt'));
      if (answer === null) return;
      const href = normaliseHref(answer);
      setLink(href)(view.state, view.dispatch);
    } else if (tool.key === 'image') {
      onImage(view);
      return;
    } else {
      tool.run(view.state, view.dispatch, view);
    }
    view.focus();
  }

  function move(event) {
    const index = buttons.findIndex((b) => b.button === document.activeElement);
    if (index < 0) return;
    let next = null;
    if (event.key === 'ArrowRight') next = (index + 1) % buttons.length;
    if (event.key === 'ArrowLeft') next = (index - 1 + buttons.length) % buttons.length;
    if (event.key === 'Home') next = 0;
    if (event.key === 'End') next = buttons.length - 1;
    if (event.key === 'Escape') { getView()?.focus(); event.preventDefault(); return; }
    if (next === null) return;
    event.preventDefault();
    focusButton(next);
  }

  function focusButton(index) {
    buttons.forEach((b, i) => { b.button.tabIndex = i === index ? 0 : -1; });
    buttons[index].button.focus();
  }

  return {
    el,
    focus: () => focusButton(Math.max(0, buttons.findIndex((b) => b.button.tabIndex === 0))),
    /** Called on every editor state change. */
    refresh(state, editable) {
      for (const { tool, button } of buttons) {
        const possible = editable && (tool.needsSelection ? !state.selection.empty : tool.run ? tool.run(state) : true);
        button.setAttribute('aria-disabled', String(!possible));
        if (tool.active) button.setAttribute('aria-pressed', String(Boolean(tool.active(state))));
      }
    },
  };
}
