// A tiny DOM builder. Text always goes in as text nodes, never as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

/** A labelled input; the error paragraph is tied to it for screen readers. */
export function field({ label, name, type = 'text', value = '', required = true, autocomplete, hint, attrs = {} }) {
  const id = nextId(name);
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  const input = h('input', {
    id, name, type, value, required, autocomplete,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
    ...attrs,
  });
  const error = h('p', { id: errorId, class: 'field-error', hidden: true });
  const wrapper = h('div', { class: 'field' }, h('label', { for: id }, label), hint && h('p', { id: hintId, class: 'hint' }, hint), input, error);
  return {
    wrapper,
    input,
    showError(message) {
      error.textContent = message;
      error.hidden = !message;
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

/** A form-level message region: role=alert so screen readers read it when it appears. */
export function formMessage() {
  const el = h('p', { class: 'form-message', role: 'alert', hidden: true });
  return {
    el,
    show(text) {
      el.textContent = text;
      el.hidden = !text;
    },
  };
}
