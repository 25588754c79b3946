// What the toolbar buttons and shortcuts do, and whether each is on (aria-pressed) or possible.
import { toggleMark, setBlockType } from 'prosemirror-commands';
import { wrapInList, splitListItem, liftListItem, sinkListItem } from 'prosemirror-schema-list';
import { undoCommand, redoCommand } from 'y-prosemirror';
import { schema } from './schema.js';

const { strong, em, link } = schema.marks;
const { paragraph, heading, bullet_list: bulletList, ordered_list: orderedList, list_item: listItem, hard_break: hardBreak } = schema.nodes;

function markActive(state, type) {
  const { from, $from, to, empty } = state.selection;
  if (empty) return Boolean(type.isInSet(state.storedMarks || $from.marks()));
  return state.doc.rangeHasMark(from, to, type);
}

function blockIs(state, type, attrs = {}) {
  const parent = state.selection.$from.parent;
  return parent.type === type && Object.entries(attrs).every(([k, v]) => parent.attrs[k] === v);
}

function inList(state, type) {
  const { $from } = state.selection;
  for (let d = $from.depth; d > 0; d--) if ($from.node(d).type === type) return true;
  return false;
}

const insertHardBreak = (state, dispatch) => {
  dispatch?.(state.tr.replaceSelectionWith(hardBreak.create()).scrollIntoView());
  return true;
};

/** Links only to web and mail addresses; anything else typed gets https:// in front. */
export function normaliseHref(raw) {
  const text = raw.trim();
  if (!text) return null;
  if (/^(https?:\/\/|mailto:)/i.test(text)) return text;
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) return null;
  return `https://${text}`;
}

export function setLink(href) {
  return (state, dispatch) => {
    const { from, to, empty } = state.selection;
    if (empty) return false;
    if (dispatch) {
      const tr = state.tr.removeMark(from, to, link);
      dispatch(href ? tr.addMark(from, to, link.create({ href })) : tr);
    }
    return true;
  };
}

/** Toolbar entries in order; `key` names the i18n label (editor.<key>) and the shortcut. */
export const TOOLS = [
  { key: 'paragraph', run: setBlockType(paragraph), active: (s) => blockIs(s, paragraph) },
  { key: 'heading', run: setBlockType(heading, { level: 2 }), active: (s) => blockIs(s, heading, { level: 2 }) },
  { key: 'subheading', run: setBlockType(heading, { level: 3 }), active: (s) => blockIs(s, heading, { level: 3 }) },
  { key: 'bold', shortcut: 'Mod-b', run: toggleMark(strong), active: (s) => markActive(s, strong) },
  { key: 'italic', shortcut: 'Mod-i', run: toggleMark(em), active: (s) => markActive(s, em) },
  { key: 'bullets', run: wrapInList(bulletList), active: (s) => inList(s, bulletList) },
  { key: 'numbers', run: wrapInList(orderedList), active: (s) => inList(s, orderedList) },
  { key: 'outdent', shortcut: 'Mod-[', run: liftListItem(listItem) },
  { key: 'link', active: (s) => markActive(s, link), needsSelection: true },
  { key: 'image' },
  { key: 'undo', shortcut: 'Mod-z', run: undoCommand },
  { key: 'redo', shortcut: 'Mod-Shift-z', run: redoCommand },
];

export const editingKeymap = {
  'Mod-b': toggleMark(strong),
  'Mod-i': toggleMark(em),
  'Mod-z': undoCommand,
  'Mod-y': redoCommand,
  'Mod-Shift-z': redoCommand,
  'Mod-[': liftListItem(listItem),
  'Mod-]': sinkListItem(listItem),
  'Shift-Enter': insertHardBreak,
  Enter: splitListItem(listItem),
};
