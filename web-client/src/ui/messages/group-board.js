// Forming groups by hand: every pupil is a card in a column ("no group", Gruppe 1, 2 …).
// Mouse users drag cards between columns; everyone else picks a card (Space/Enter or a
// click) and then the column to move it to. Nothing is sent until "save", so a half-made
// arrangement survives a pupil reconnecting.
import { h, replace } from '../dom.js';
import { announce } from '../announce.js';
import { t } from '../../i18n.js';

/**
 * `onSave(groups)` gets the arrangement as lists of participant ids. `load(people, groups)`
 * starts again from the lesson's people and its current groups.
 */
export function groupBoard({ onSave }) {
  /** participant id → column (0: no group, 1…: group number) */
  let placed = new Map();
  let people = [];
  let columns = 2;
  let picked = null;
  const board = h('div', { class: 'group-board' });
  const unplacedNote = h('p', { class: 'notice warning', role: 'status', hidden: true });

  const move = (id, column) => {
    placed.set(id, column);
    picked = null;
    const person = people.find((p) => p.id === id);
    announce(column ? t('groups.moved_to', { name: person?.name ?? '', n: column }) : t('groups.moved_out', { name: person?.name ?? '' }));
    draw();
  };

  // The list item is what is dragged, by its handle: Chromium starts no drag from a button.
  const card = (person) => h('li', {
    class: 'board-card',
    draggable: 'true',
    ondragstart: (event) => {
      event.dataTransfer.setData('text/plain', person.id);
      event.dataTransfer.effectAllowed = 'move';
    },
  },
    h('span', { class: 'drag-handle', 'aria-hidden': 'true', title: t('groups.drag') }, '⠿'),
    h('button', {
      type: 'button',
      class: `pupil-card ${person.online ? 'online' : 'offline'}`,
      'data-participant': person.id,
      'aria-pressed': picked === person.id ? 'true' : 'false',
      'aria-label': t(person.online ? 'groups.card_present' : 'groups.card_absent', { name: person.name }),
      onclick: () => {
        picked = picked === person.id ? null : person.id;
        if (picked) announce(t('groups.picked', { name: person.name }));
        draw();
      },
    }, h('span', { class: 'presence-dot', 'aria-hidden': 'true' }), person.name));

  const column = (number) => {
    const members = people.filter((p) => (placed.get(p.id) ?? 0) === number);
    const title = number ? t('messages.group_number', { n: number }) : t('groups.unplaced', { n: members.length });
    const pickedPerson = people.find((p) => p.id === picked);
    const headingId = `board-col-${number}`;
    return h('section', {
      class: `board-column${number ? '' : ' unplaced'}${members.length || number ? '' : ' empty'}`,
      'aria-labelledby': headingId,
      ondragover: (event) => { event.preventDefault(); event.dataTransfer.dropEffect = 'move'; },
      ondrop: (event) => {
        event.preventDefault();
        const id = event.dataTransfer.getData('text/plain');
        if (people.some((p) => p.id === id)) move(id, number);
      },
    },
    h('h3', { id: headingId }, title),
    h('ul', { class: 'board-cards' }, members.map(card)),
    pickedPerson && (placed.get(picked) ?? 0) !== number
      ? h('button', { type: 'button', class: 'small', onclick: () => move(picked, number) },
        number ? t('groups.move_here', { name: pickedPerson.name, n: number }) : t('groups.move_out', { name: pickedPerson.name }))
      : null);
  };

  const draw = () => {
    const unplaced = people.filter((p) => !placed.get(p.id));
    unplacedNote.hidden = !unplaced.length || placed.size === 0 || [...placed.values()].every((c) => !c);
    // A few are named; many are counted (their column lists them).
    unplacedNote.textContent = unplaced.length > 5
      ? t('groups.unplaced_count', { n: unplaced.length })
      : t('groups.unplaced_warning', { names: unplaced.map((p) => p.name).join(', ') });
    replace(board, Array.from({ length: columns + 1 }, (_, i) => column(i)));
  };

  const el = h('div', { class: 'by-hand' },
    h('p', { class: 'hint' }, t('groups.board_hint')),
    unplacedNote,
    board,
    h('p', { class: 'button-row' },
      h('button', { type: 'button', onclick: () => { columns += 1; draw(); } }, t('groups.add_group')),
      h('button', { type: 'button', class: 'primary', onclick: () => {
        const groups = Array.from({ length: columns }, (_, i) => people.filter((p) => placed.get(p.id) === i + 1).map((p) => p.id));
        onSave(groups.filter((g) => g.length));
      } }, t('groups.save'))));

  return {
    el,
    load(list, groups) {
      people = list;
      placed = new Map(groups.flatMap((g) => g.members.map((m) => [m.id, g.number])));
      columns = Math.max(groups.length + 1, 2);
      if (picked && !people.some((p) => p.id === picked)) picked = null;
      draw();
    },
  };
}
