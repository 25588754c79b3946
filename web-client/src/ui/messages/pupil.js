// The pupil's messages: announcements, raise hand (with a question only the teacher sees),
// the private thread with the teacher, and the class and group chats when the teacher has
// opened them. Draws from the message store; knows nothing of the wire.
import { h, replace } from '../dom.js';
import { announce } from '../announce.js';
import { t, errorText } from '../../i18n.js';
import { threadList, composer } from './parts.js';
import { get } from '../../protocol/api.js';
import { docTitle } from '../views/doc.js';

export function pupilMessages({ store, onError }) {
  const s = store.state;
  // Announcements are read out as they come (their own live region, so they are not lost
  // among other updates).
  const latest = h('div', { class: 'announcement', 'aria-live': 'assertive', role: 'region', 'aria-label': t('messages.announcements') });
  const earlier = threadList(t('messages.announcements'));

  const handStatus = h('p', { class: 'hand-status', role: 'status' });
  const question = h('textarea', { id: 'hand-question', rows: 2, maxlength: 2000, 'aria-describedby': 'hand-question-hint' });
  const handButton = h('button', { type: 'button', class: 'hand', onclick: () => {
    if (s.myHand?.raised) {
      store.request({ type: 'lower_hand' });
      return;
    }
    store.raiseHand(question.value.trim() || undefined);
    question.value = '';
  } });

  const privateThread = threadList(t('messages.private'));
  // A link to one of the pupil's documents can go with a message ("look at what I wrote").
  const docChoice = h('select', { id: 'link-doc' }, h('option', { value: '' }, t('messages.no_doc')));
  get('/docs').then(({ docs }) => docChoice.append(...docs.map((doc) => h('option', { value: doc.name }, docTitle(doc, { role: 'pupil' }))))).catch(() => {});
  const privateComposer = composer({
    label: t('messages.write_teacher'),
    button: t('messages.send'),
    hint: t('messages.private_hint'),
    attach: true,
    extra: h('p', {}, h('label', { for: 'link-doc' }, t('messages.link_doc')), ' ', docChoice),
    onSend: (text, file) => {
      if (!s.threads) return;
      const doc = docChoice.value || undefined;
      docChoice.value = '';
      if (file) store.writeWithFile(s.threads.private, text, file, { doc }).catch((failure) => onError(errorText(failure)));
      else store.write(s.threads.private, text, { doc });
    },
  });

  const classChat = threadList(t('messages.class_chat'));
  const classComposer = composer({ label: t('messages.write_class'), button: t('messages.send'), onSend: (text) => store.write(s.threads.class_chat, text) });
  const groupInfo = h('div', { class: 'group-info' });
  const groupChat = threadList(t('messages.group_chat'));
  const groupComposer = composer({ label: t('messages.write_group'), button: t('messages.send'), onSend: (text) => s.threads?.group_chat && store.write(s.threads.group_chat, text) });
  const groupSection = h('section', { 'aria-labelledby': 'group-h', hidden: true }, h('h3', { id: 'group-h' }, t('messages.my_group')), groupInfo, groupChat.el, groupComposer.el);

  const mutedText = () => {
    const until = s.myChat?.muted_until_ms;
    if (!until) return null;
    return t('messages.muted_until', { time: new Intl.DateTimeFormat(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' }).format(new Date(until)) });
  };

  const draw = () => {
    const threads = s.threads;
    if (!threads) return;
    const news = store.thread(threads.announcements);
    const newest = news.at(-1);
    replace(latest, newest && !newest.deleted ? [h('p', { class: 'label' }, t('messages.announcement_from_teacher')), h('p', { class: 'text' }, newest.text)] : []);
    earlier.draw(news.slice(0, -1).reverse());
    privateThread.draw(store.thread(threads.private));
    classChat.draw(store.thread(threads.class_chat));
    const muted = mutedText();
    classComposer.setEnabled(Boolean(s.myChat?.class_open) && !muted, muted ?? (s.myChat?.class_open ? '' : t('messages.chat_closed')));
    groupSection.hidden = !s.myGroup;
    if (s.myGroup) {
      replace(groupInfo,
        h('p', {}, t('messages.group_number', { n: s.myGroup.number }), ': ', s.myGroup.members.map((m) => m.name).join(', ')),
        h('p', {}, h('a', { href: `/doc?name=${encodeURIComponent(s.myGroup.doc)}`, 'data-link': true }, t('messages.group_doc'))));
      groupChat.draw(threads.group_chat ? store.thread(threads.group_chat) : []);
      groupComposer.setEnabled(Boolean(s.myChat?.group_open) && !muted, muted ?? (s.myChat?.group_open ? '' : t('messages.chat_closed')));
    }
    const hand = s.myHand;
    handButton.textContent = hand?.raised ? t('messages.lower_hand') : t('messages.raise_hand');
    handButton.setAttribute('aria-pressed', hand?.raised ? 'true' : 'false');
    handStatus.textContent = !hand?.raised ? '' : hand.coming ? t('messages.teacher_coming') : t('messages.your_place', { place: hand.place });
  };

  const update = (type, msg) => {
    if (type === 'message' && msg.thread === s.threads?.private && msg.author.teacher && s.synced) announce(t('messages.new_from_teacher'));
    draw();
  };

  const el = h('div', { class: 'messages' },
    latest,
    h('section', { 'aria-labelledby': 'hand-h' },
      h('h3', { id: 'hand-h' }, t('messages.hand')),
      h('label', { for: 'hand-question' }, t('messages.hand_question')),
      question,
      h('p', { class: 'hint', id: 'hand-question-hint' }, t('messages.private_hint')),
      handButton,
      handStatus),
    // The group, when there is one, right after the hand: on a phone it is found at once.
    groupSection,
    h('section', { 'aria-labelledby': 'private-h' }, h('h3', { id: 'private-h' }, t('messages.private')), privateThread.el, privateComposer.el),
    h('section', { 'aria-labelledby': 'class-chat-h' }, h('h3', { id: 'class-chat-h' }, t('messages.class_chat')), classChat.el, classComposer.el),
    h('details', {}, h('summary', {}, t('messages.earlier_announcements')), earlier.el));
  draw();
  handButton.textContent = t('messages.raise_hand');
  return { el, update };
}
