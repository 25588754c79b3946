// Colours for other people's cursors. CSP forbids inline styles, so colours are classes
// (style.css `.peer-N`); the hex value also goes into awareness for other Yjs editors.
export const PEER_COLOURS = ['#0b4f8a', '#a3161a', '#1d6b2f', '#6b21a8', '#9a3412', '#0f766e', '#86198f', '#374151'];

/** A stable colour index for a name, so a pupil keeps their colour across reloads. */
export function colourIndexFor(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % PEER_COLOURS.length;
}

export function colourIndexOf(user) {
  const index = PEER_COLOURS.indexOf(user?.color);
  return index >= 0 ? index : colourIndexFor(String(user?.name ?? ''));
}

/** The caret and name flag drawn where someone else's cursor is. */
export function cursorElement(user) {
  const index = colourIndexOf(user);
  const caret = document.createElement('span');
  caret.className = `peer-caret peer-${index}`;
  caret.setAttribute('aria-hidden', 'true');
  const flag = document.createElement('span');
  flag.className = 'peer-flag';
  flag.textContent = String(user?.name ?? '');
  caret.append('\u2060', flag, '\u2060');
  return caret;
}

export function selectionAttrs(user) {
  return { class: `peer-selection peer-${colourIndexOf(user)}` };
}
