// The teacher's messages panel, in parts the lesson page places: the raised hands; the people
// (who is here, each with their private thread and unread count, a sound if wanted) with the
// open thread; announcements; the groups; the chats with their switches.
import { h, replace } from '../dom.js';
import { announce } from '../announce.js';
import { t, errorText } from '../../i18n.js';
import { post, put } from '../../protocol/api.js';
import { threadList, composer } from './parts.js';
import { groupBoard } from './group-board.js';

const SOUND_KEY = 'tavla.sound';
/** How long "undo" is offered before an answered hand goes down. */
const LOWER_AFTER_MS = 6000;
/** The announcement target that writes into every group's chat. */
const ALL_GROUPS = '*groups';

/** A short tone made in the browser: no file, nothing fetched. */
function beep() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 660;
    gain.gain.value = 0.08;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.18);
    tone.addEventListener('ended', () => audio.close());
  } catch {
    // No audio device: the visual cue is enough.
  }
}

/**
 * `live` (optional) offers the live panel's actions here: `letSpeak(participantId)` next to a
 * raised hand of a pupil at home, `call(participantId)` in a pupil's private thread.
 * `onRemove(person)` takes a pupil out of the lesson.
 */
export function teacherMessages({ store, lesson, onError, setTitle, live, onRemove }) {
  const s = store.state;
  let people = [];
  let selected = null;
  /** thread → highest seq the teacher has seen there */
  const seen = new Map();
  const lessonPath = `/lessons/${encodeURIComponent(lesson.id)}`;
  const announcements = `an.${lesson.id}`;
  const classChat = `ch.${lesson.id}`;

  // Hands.
  const queue = h('ol', { class: 'hand-queue', 'aria-labelledby': 'hands-h' });
  // No hands: a sentence, not a numbered list of one.
  const noHands = h('p', { class: 'placeholder' }, t('messages.no_hands'));
  const handsHeading = h('h2', { id: 'hands-h' }, t('messages.hands', { n: 0 }));

  // The people, each with their private thread.
  const summary = h('p', { class: 'presence-summary' });
  const peopleList = h('ul', { class: 'presence people', 'aria-labelledby': 'present-h' });
  const threadHeading = h('h3', { id: 'thread-h', tabindex: -1 });
  /** The pupil whose raised hand the teacher is answering in writing. */
  let answering = null;
  /** A hand that goes down when "undo" was not pressed: `{ id, timer }`. */
  let lowering = null;
  const loweringBar = h('p', { class: 'notice lowering', role: 'status', hidden: true });
  const thread = threadList(t('messages.private'));
  const reply = composer({
    label: t('messages.reply'),
    button: t('messages.send'),
    attach: true,
    onSend: (text, file) => {
      if (!selected) return;
      if (file) store.writeWithFile(selected.thread, text, file, { lessonId: lesson.id }).catch((failure) => onError(errorText(failure)));
      else store.write(selected.thread, text);
      // An answer to a raised hand is the answer: the hand goes down (with a moment to undo).
      if (answering === selected.id && s.hands.some((hand) => hand.participant_id === selected.id)) lowerSoon(selected);
      answering = null;
    },
  });

  const cancelLowering = () => {
    if (lowering) clearTimeout(lowering.timer);
    lowering = null;
    loweringBar.hidden = true;
  };
  const lowerSoon = (person) => {
    cancelLowering();
    const timer = setTimeout(() => {
      store.request({ type: 'lower_hand', participant: person.id });
      announce(t('hands.lowered_named', { name: person.name }));
      cancelLowering();
    }, LOWER_AFTER_MS);
    lowering = { id: person.id, timer };
    replace(loweringBar, t('hands.lowering_named', { name: person.name }), ' ',
      h('button', { type: 'button', class: 'small', onclick: () => {
        cancelLowering();
        announce(t('hands.kept_up_named', { name: person.name }));
      } }, t('hands.keep_up')));
    loweringBar.hidden = false;
  };
  const callButton = h('button', { type: 'button', class: 'small', hidden: !live, onclick: () => selected && live?.call(selected.id) });
  const threadView = h('div', { class: 'thread-view', hidden: true }, threadHeading, callButton, thread.el, reply.el);

  // Announcements.
  const target = h('select', { id: 'announce-target' });
  const announceBox = composer({
    label: t('messages.announce_text'),
    button: t('messages.announce_send'),
    onSend: (text) => {
      const group = s.groups.find((g) => g.id === target.value);
      if (target.value === ALL_GROUPS) for (const g of s.groups) store.write(g.chat, text, { announce: true });
      else if (group) store.write(group.chat, text, { announce: true });
      else store.write(announcements, text);
      announce(t('messages.announced'));
    },
  });

  // What was announced to the whole lesson, newest first, so the teacher sees what they said.
  const sentAnnouncements = threadList(t('messages.sent_announcements'));

  // Chats.
  const classOpen = h('input', { type: 'checkbox', id: 'class-chat-open', onchange: (e) => store.request({ type: 'set_chat', scope: 'class', open: e.target.checked }) });
  const chatList = threadList(t('messages.class_chat'));
  const chatComposer = composer({ label: t('messages.write_class'), button: t('messages.send'), onSend: (text) => store.write(classChat, text) });
  const groupChats = h('div', { class: 'group-chats' });

  // Groups.
  const size = h('input', { type: 'number', id: 'group-size', min: 2, max: 10, value: 2 });
  const groupsList = h('ul', { class: 'groups', 'aria-labelledby': 'groups-h' });
  const board = groupBoard({ onSave: (groups) => groupsCall(put, '/groups', { groups }) });
  const endGroups = h('button', { type: 'button', hidden: true, onclick: () => groupsCall(put, '/groups', { groups: [] }) }, t('groups.end'));
  // Group work for a while: the pupils are told until when, and when the time is up.
  const minutes = h('input', { type: 'number', id: 'group-minutes', min: 1, max: 120, value: 15 });
  let timer = null;
  const timerStatus = h('p', { role: 'status', class: 'hint' });
  const clock = (ms) => new Intl.DateTimeFormat(document.documentElement.lang || 'nb', { hour: '2-digit', minute: '2-digit' }).format(new Date(ms));
  const startTimer = () => {
    const n = Number(minutes.value);
    if (!Number.isInteger(n) || n < 1 || n > 120) return onError(t('groups.timer_invalid'));
    clearTimeout(timer?.handle);
    const until = Date.now() + n * 60000;
    store.write(announcements, t('groups.timer_started', { time: clock(until) }));
    timer = { until, handle: setTimeout(() => {
      store.write(announcements, t('groups.timer_over'));
      timerStatus.textContent = t('groups.timer_over');
      timer = null;
    }, n * 60000) };
    timerStatus.textContent = t('groups.timer_running', { time: clock(until) });
  };
  const groupParts = new Map();
  let groupChatsKey = null;
  let byHandKey = null;
  let handsBefore = new Set();
  const groupsCall = async (method, path, body) => {
    try {
      await method(`${lessonPath}${path}`, body);
      announce(t('groups.formed'));
    } catch (failure) {
      onError(errorText(failure));
    }
  };

  const sound = h('input', { type: 'checkbox', id: 'sound-on', checked: localStorage.getItem(SOUND_KEY) === 'on', onchange: (e) => localStorage.setItem(SOUND_KEY, e.target.checked ? 'on' : 'off') });

  const unread = (threadId) => store.thread(threadId).filter((m) => !m.author.teacher && m.seq > (seen.get(threadId) ?? 0)).length;

  const moderation = (m) => m.author.teacher || m.deleted ? [] : [
    h('button', { type: 'button', class: 'small', onclick: () => store.request({ type: 'delete_message', thread: m.thread, seq: m.seq }) }, t('messages.delete')),
    ' ',
    h('button', { type: 'button', class: 'small', onclick: () => { store.request({ type: 'mute', participant: m.author.id, minutes: 10 }); announce(t('messages.muted_named', { name: m.author.name })); } }, t('messages.mute', { name: m.author.name })),
  ];

  /** Opens a pupil's thread with the reply box ready to type in. */
  const select = (person, { viaHand = false } = {}) => {
    selected = person;
    answering = viaHand ? person.id : null;
    threadView.hidden = false;
    threadHeading.textContent = t('messages.thread_with', { name: person.name });
    callButton.textContent = t('media.call_named', { name: person.name });
    draw();
    reply.focus();
  };

  const drawGroups = () => {
    const chosen = target.value;
    replace(target, h('option', { value: '' }, t('messages.announce_everyone')),
      s.groups.length ? h('option', { value: ALL_GROUPS }, t('messages.announce_all_groups')) : null,
      s.groups.map((g) => h('option', { value: g.id }, t('messages.group_number', { n: g.number }))));
    target.value = [...target.options].some((o) => o.value === chosen) ? chosen : '';
    const online = new Set(people.filter((p) => p.online).map((p) => p.id));
    replace(groupsList, s.groups.length ? s.groups.map((g) => h('li', {},
      h('strong', {}, t('messages.group_number', { n: g.number })), ': ',
      g.members.map((m, i) => [i ? ', ' : '', h('span', { class: `member ${online.has(m.id) ? 'online' : 'offline'}` }, m.name, online.has(m.id) ? '' : ` (${t('lesson.absent')})`)]), ' ',
      h('a', { href: `/doc?name=${encodeURIComponent(g.doc)}&lesson=${encodeURIComponent(lesson.id)}`, 'data-link': true }, t('messages.group_doc_named', { n: g.number })))) : h('li', {}, t('groups.none')));
    endGroups.hidden = !s.groups.length;
    const open = new Set(s.chat?.open_groups ?? []);
    const ids = s.groups.map((g) => g.id).join();
    if (ids !== groupChatsKey) {
      // Built once per arrangement, so a message arriving does not wipe what the teacher types.
      groupChatsKey = ids;
      groupParts.clear();
      replace(groupChats, s.groups.map((g) => {
        const id = `group-open-${g.id}`;
        const list = threadList(t('messages.group_chat_named', { n: g.number }));
        const toggle = h('input', { type: 'checkbox', id, onchange: (e) => store.request({ type: 'set_chat', scope: g.id, open: e.target.checked }) });
        groupParts.set(g.id, { list, toggle, chat: g.chat });
        return h('details', { class: 'group-chat' },
          h('summary', {}, t('messages.group_chat_named', { n: g.number })),
          h('div', { class: 'check' }, toggle, h('label', { for: id }, t('messages.group_chat_open', { n: g.number }))),
          list.el,
          composer({ label: t('messages.write_group_named', { n: g.number }), button: t('messages.send'), onSend: (text) => store.write(g.chat, text) }).el);
      }));
    }
    for (const [id, part] of groupParts) {
      part.toggle.checked = open.has(id);
      part.list.draw(store.thread(part.chat), moderation);
    }
    // By hand: rebuilt only when people or groups change, so a half-made arrangement
    // survives someone's tablet reconnecting.
    const handKey = `${people.map((p) => `${p.id}:${p.online}`).join()}|${s.groups.map((g) => g.members.map((m) => m.id).join('+')).join()}`;
    if (handKey === byHandKey) return;
    byHandKey = handKey;
    board.load(people, s.groups);
  };

  const draw = () => {
    handsHeading.textContent = t('messages.hands', { n: s.hands.length });
    queue.hidden = !s.hands.length;
    noHands.hidden = s.hands.length > 0;
    replace(queue, s.hands.map((hand) => {
      const person = people.find((p) => p.id === hand.participant_id);
      return h('li', { 'data-participant': hand.participant_id },
        h('span', { class: 'name' }, hand.name),
        hand.at_home ? h('span', { class: 'badge home' }, t('lesson.at_home')) : null,
        hand.coming ? h('span', { class: 'badge' }, t('messages.coming_said')) : null,
        hand.question ? h('p', { class: 'text' }, hand.question) : null,
        h('p', { class: 'actions' },
          person ? h('button', { type: 'button', class: 'small', onclick: () => select(person, { viaHand: true }) }, t('messages.answer_named', { name: hand.name })) : null, ' ',
          h('button', { type: 'button', class: 'small', disabled: hand.coming, onclick: () => store.request({ type: 'coming', participant: hand.participant_id }) }, t('messages.coming')), ' ',
          // A pupil at home cannot be walked to: they raise a hand to be let speak.
          hand.at_home && live ? [h('button', { type: 'button', class: 'small', onclick: () => live.letSpeak(hand.participant_id) }, t('media.talk_let_named', { name: hand.name })), ' '] : null,
          h('button', { type: 'button', class: 'small', onclick: () => store.request({ type: 'lower_hand', participant: hand.participant_id }) }, t('messages.lower_named', { name: hand.name }))));
    }));

    if (selected && !threadView.hidden) seen.set(selected.thread, Math.max(0, ...store.thread(selected.thread).map((m) => m.seq)));
    let total = 0;
    const online = people.filter((p) => p.online).length;
    summary.textContent = t('lesson.summary', { present: online, total: people.length });
    // People with something unread first, then as the box lists them.
    const order = people.map((p, i) => ({ p, i, n: unread(p.thread) })).sort((a, b) => (b.n > 0) - (a.n > 0) || a.i - b.i);
    replace(peopleList, order.map(({ p, n }) => {
      total += n;
      return h('li', { class: p.online ? 'online' : 'offline', 'data-participant': p.id },
        h('button', { type: 'button', class: 'thread-button', 'aria-pressed': selected?.id === p.id ? 'true' : 'false', 'aria-label': t('people.thread_named', { name: p.name }) + (n ? `, ${t('messages.unread', { n })}` : ''), onclick: () => select(p) },
          h('span', { class: 'name' }, p.name), n ? h('span', { class: 'badge unread' }, t('messages.unread', { n })) : null),
        h('span', { class: 'status' }, p.online ? t('lesson.present') : t('lesson.absent')),
        p.at_home ? h('span', { class: 'badge home' }, t('lesson.at_home')) : null,
        p.rostered ? null : h('span', { class: 'badge' }, t('lesson.guest')),
        (p.online || !p.rostered) && onRemove ? h('button', { type: 'button', class: 'danger small', 'aria-label': t('lesson.remove_named', { name: p.name }), onclick: () => onRemove(p) }, t('lesson.remove')) : null);
    }));
    if (!people.length) replace(peopleList, h('li', {}, t('lesson.nobody')));
    setTitle(total ? `(${total}) ${t('lesson.title', { name: lesson.class.name })}` : t('lesson.title', { name: lesson.class.name }));
    if (selected) thread.draw(store.thread(selected.thread));

    sentAnnouncements.draw([...store.thread(announcements)].reverse(), moderation);
    classOpen.checked = Boolean(s.chat?.class_open);
    chatList.draw(store.thread(classChat), moderation);
  };

  return {
    hands: h('section', { class: 'hands', 'aria-labelledby': 'hands-h' }, handsHeading, loweringBar, queue, noHands),
    people: h('section', { class: 'people-section', 'aria-labelledby': 'present-h' },
      h('h2', { id: 'present-h' }, t('lesson.participants')), summary,
      h('div', { class: 'check' }, sound, h('label', { for: 'sound-on' }, t('messages.sound'))),
      threadView, peopleList),
    announcements: h('section', { 'aria-labelledby': 'announce-h' }, h('h2', { id: 'announce-h' }, t('messages.announce')),
      h('label', { for: 'announce-target' }, t('messages.announce_to')), target, announceBox.el,
      h('h3', { id: 'sent-announcements-h' }, t('messages.sent_announcements')), sentAnnouncements.el),
    groups: h('section', { 'aria-labelledby': 'groups-h' }, h('h2', { id: 'groups-h' }, t('groups.title')),
      groupsList,
      h('p', {}, h('label', { for: 'group-size' }, t('groups.size')), ' ', size, ' ',
        h('button', { type: 'button', onclick: () => groupsCall(post, '/groups/random', { size: Number(size.value) }) }, t('groups.random')), ' ',
        h('button', { type: 'button', onclick: () => groupsCall(post, '/groups/repeat', {}) }, t('groups.repeat')), ' ',
        endGroups),
      h('p', {}, h('label', { for: 'group-minutes' }, t('groups.timer_minutes')), ' ', minutes, ' ',
        h('button', { type: 'button', onclick: startTimer }, t('groups.timer_start'))),
      timerStatus,
      h('details', {}, h('summary', {}, t('groups.by_hand')), board.el)),
    chats: h('section', { 'aria-labelledby': 'chat-h' }, h('h2', { id: 'chat-h' }, t('messages.chats')),
      h('div', { class: 'check' }, classOpen, h('label', { for: 'class-chat-open' }, t('messages.class_chat_open'))),
      chatList.el, chatComposer.el, groupChats),
    /** Stops a pending "hand goes down" (the page is closing). */
    stop() {
      cancelLowering();
      clearTimeout(timer?.handle);
    },
    /** New participants list (from presence). */
    setPeople(list) {
      people = list;
      draw();
      drawGroups();
    },
    update(type, msg) {
      if (type === 'message' && !msg.author.teacher && msg.thread.startsWith('pm.') && s.synced) {
        const person = people.find((p) => p.thread === msg.thread);
        if (selected?.thread !== msg.thread) {
          announce(t(msg.kind === 'question' ? 'messages.new_question' : 'messages.new_private', { name: person?.name ?? msg.author.name }));
          if (localStorage.getItem(SOUND_KEY) === 'on') beep();
        }
      }
      if (type === 'hands') {
        const raised = s.hands.filter((hand) => !handsBefore.has(hand.participant_id));
        if (raised.length) {
          announce(raised.map((hand) => t('messages.hand_raised', { name: hand.name })).join(' '));
          if (localStorage.getItem(SOUND_KEY) === 'on') beep();
        }
        handsBefore = new Set(s.hands.map((hand) => hand.participant_id));
      }
      if (type === 'groups' || type === 'chat_settings' || (type === 'message' && msg.thread.startsWith('gr.'))) drawGroups();
      draw();
    },
  };
}
