// Messages, hands, chat switches and groups as the server tells them over /ws; no DOM. Keeps
// the resume cursor and an outbox: a send is kept until the box says `sent`, and is sent again
// (same client_id, so never stored twice) after a reconnect. With `keep`, the outbox also
// outlives the page: a message written offline in a tab closed before the box came back is
// sent by the next page that opens.
import { upload } from './api.js';

/** At most this many unsent messages wait in a browser; older ones give way. */
const OUTBOX_MAX = 100;

/**
 * `keep` (optional): `{ load(), save(kept) }` where the outbox lives, with the threads the
 * box last named (so a page opened offline knows where a message goes): `kept` is
 * `{ outbox: request[], threads }`.
 */
export function messageStore({ onChange, onRefused, keep }) {
  const kept = keep?.load() ?? {};
  const state = {
    cursor: 0,
    synced: false,
    threads: kept.threads ?? null,
    /** thread → Map(seq → message) */
    messages: new Map(),
    hands: [],
    myHand: null,
    chat: null,
    myChat: null,
    groups: [],
    myGroup: undefined,
  };
  // Other pages of this browser (tabs, also closed ones) share the kept outbox: what they
  // wrote stays in it, and this page sends it too (the box keeps a client_id once).
  const keptRequests = () => (keep?.load().outbox ?? []).filter((r) => r?.client_id);
  const outbox = new Map(keptRequests().map((r) => [r.client_id, r]));
  /** Requests the box confirmed (or refused) to this page: gone from the kept outbox too. */
  const done = new Set();
  const takeKept = () => {
    for (const r of keptRequests()) if (!outbox.has(r.client_id) && !done.has(r.client_id)) outbox.set(r.client_id, r);
  };
  const saveOutbox = () => {
    if (!keep) return;
    takeKept();
    while (outbox.size > OUTBOX_MAX) outbox.delete(outbox.keys().next().value);
    keep.save({ outbox: [...outbox.values()], threads: state.threads });
  };
  let send = () => false;

  const put = (message) => {
    if (!state.messages.has(message.thread)) state.messages.set(message.thread, new Map());
    state.messages.get(message.thread).set(message.seq, message);
  };

  const flushOutbox = () => {
    takeKept();
    for (const request of outbox.values()) send(request);
  };

  return {
    state,
    /** Call from connectLive's onOpen. */
    opened(sender) {
      send = sender;
      state.synced = false;
      send({ type: 'sync', after: state.cursor });
    },
    /** Call with every message from /ws; returns whether it was one of ours. */
    handle(msg) {
      switch (msg.type) {
        case 'threads':
          state.threads = msg;
          saveOutbox();
          break;
        case 'message':
          put(msg.message);
          state.cursor = Math.max(state.cursor, msg.message.seq);
          onChange('message', msg.message);
          return true;
        case 'message_deleted': {
          const message = state.messages.get(msg.thread)?.get(msg.message);
          if (message) Object.assign(message, { deleted: true, text: '', doc: undefined });
          state.cursor = Math.max(state.cursor, msg.seq);
          break;
        }
        case 'synced':
          state.cursor = Math.max(state.cursor, msg.seq);
          state.synced = true;
          flushOutbox();
          break;
        case 'sent':
          outbox.delete(msg.client_id);
          done.add(msg.client_id);
          saveOutbox();
          break;
        case 'refused':
          if (msg.client_id) {
            done.add(msg.client_id);
            if (outbox.delete(msg.client_id)) saveOutbox();
          }
          onRefused?.(msg);
          return true;
        case 'hands': state.hands = msg.queue; break;
        case 'my_hand': state.myHand = msg; break;
        case 'chat_settings': state.chat = msg; break;
        case 'my_chat': state.myChat = msg; break;
        case 'groups': state.groups = msg.groups; break;
        case 'my_group': state.myGroup = msg.group; break;
        default: return false;
      }
      onChange(msg.type, msg);
      return true;
    },
    /** A thread's messages, oldest first. */
    thread(id) {
      return [...(state.messages.get(id)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
    },
    /** Writes into a thread; kept and resent until the box confirms it. */
    write(thread, text, { announce = false, doc, file } = {}) {
      const client_id = crypto.randomUUID();
      const request = { type: 'send', client_id, thread, text, announce, ...(doc ? { doc } : {}), ...(file ? { file } : {}) };
      outbox.set(client_id, request);
      saveOutbox();
      if (state.synced) send(request);
    },
    /** Uploads a file for a thread, then writes the message carrying it. Rejects with the
     *  upload's ApiFailure. Teachers name their lesson. */
    async writeWithFile(thread, text, file, { lessonId, doc } = {}) {
      const query = new URLSearchParams({ thread, name: file.name });
      if (lessonId) query.set('lesson', lessonId);
      const stored = await upload(`/files?${query}`, file);
      this.write(thread, text, { file: stored.id, doc });
    },
    /** Raises the hand; a question is kept and resent like a message until confirmed. */
    raiseHand(question) {
      const request = { type: 'raise_hand' };
      if (question) {
        request.question = question;
        request.client_id = crypto.randomUUID();
        outbox.set(request.client_id, request);
        saveOutbox();
      }
      if (state.synced) send(request);
    },
    /** Requests that are state changes, not messages: not kept across reconnects. */
    request(message) {
      return send(message);
    },
    pending() {
      return outbox.size;
    },
  };
}
