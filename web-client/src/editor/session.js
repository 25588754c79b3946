// One open document: a Yjs doc synced over /yjs with the official y-websocket provider, kept in
// the browser too (local.js) so writing goes on offline, and bound to a ProseMirror view by
// y-prosemirror (text, per-user undo, other people's cursors).
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { EditorState, Plugin } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { keymap } from 'prosemirror-keymap';
import { baseKeymap } from 'prosemirror-commands';
import { ySyncPlugin, yCursorPlugin, yUndoPlugin } from 'y-prosemirror';
import { schema, FRAGMENT } from './schema.js';
import { editingKeymap } from './commands.js';
import { imageDropPlugin } from './images.js';
import { keepLocally } from './local.js';
import { PEER_COLOURS, colourIndexFor, colourIndexOf, cursorElement, selectionAttrs } from './peers.js';

/** Close codes after which reconnecting with this Yjs doc is pointless (docs/PROTOCOL.md). */
const TERMINAL_CODES = new Set([4000, 4001, 4002, 4003, 4004, 4005, 4006, 4013, 4014]);

/**
 * Opens `name` inside `mount`. `onStatus('connecting'|'online'|'offline'|'synced')` ('synced':
 * online again and everything written offline is with the box), `onPeers([{name,
 * colour, me}])` and `onClosed(code)` (terminal close) report to the page; `askAlt(file)` asks for a
 * pasted picture's alt text, `onImageError(failure)` reports a picture that could not be saved.
 */
export function openDocument({ mount, name, userName, writable, attributes, onStatus, onPeers, onClosed, onChange, askAlt, onImageError }) {
  const ydoc = new Y.Doc();
  const local = writable ? keepLocally(name, ydoc) : null;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/yjs`;
  const provider = new WebsocketProvider(url, name, ydoc, {
    disableBc: true,
    maxBackoffTime: 10000,
    shouldReconnect: (event) => !TERMINAL_CODES.has(event.code),
  });
  const setColour = (index) => provider.awareness.setLocalStateField('user', { name: userName, color: PEER_COLOURS[index] });
  setColour(colourIndexFor(userName));
  // Once the others are known, take a colour nobody here has, so cursors tell people apart.
  provider.once('sync', () => {
    const taken = new Set();
    provider.awareness.getStates().forEach((state, clientId) => {
      if (clientId !== ydoc.clientID && state.user) taken.add(colourIndexOf(state.user));
    });
    const own = colourIndexOf(provider.awareness.getLocalState()?.user);
    if (taken.has(own)) {
      const free = PEER_COLOURS.findIndex((_, i) => !taken.has(i));
      if (free >= 0) setColour(free);
    }
  });

  let wasOffline = false;
  provider.on('status', ({ status }) => {
    if (status === 'disconnected') wasOffline = true;
    onStatus?.(status === 'connected' ? 'online' : status === 'connecting' && !wasOffline ? 'connecting' : 'offline');
  });
  // A connection that fails before it ever opened (a tab opened while the box is away) is
  // offline too; y-websocket reports no status change for it.
  provider.on('connection-close', (event) => {
    if (provider.wsconnected || (event && TERMINAL_CODES.has(event.code))) return;
    wasOffline = true;
    onStatus?.('offline');
  });
  // After a time offline, say so once the box has everything again.
  provider.on('sync', (synced) => {
    if (synced && wasOffline) {
      wasOffline = false;
      onStatus?.('synced');
    }
  });
  provider.on('closed', ({ code }) => onClosed?.(code));

  const reportPeers = () => {
    const peers = [];
    provider.awareness.getStates().forEach((state, clientId) => {
      if (!state.user?.name) return;
      // The box sets name and role from the sign-in; the role is shown as a badge.
      peers.push({ name: String(state.user.name), teacher: state.user.role === 'teacher', colour: colourIndexOf(state.user), me: clientId === ydoc.clientID });
    });
    peers.sort((a, b) => Number(b.me) - Number(a.me) || a.name.localeCompare(b.name));
    onPeers?.(peers);
  };
  provider.awareness.on('change', reportPeers);
  reportPeers();

  const notifyChanges = new Plugin({ view: () => ({ update: (view) => onChange?.(view.state) }) });
  let destroyed = false;
  const view = new EditorView(mount, {
    // y-prosemirror dispatches awareness changes from a timeout and (1.3.7) does not notice
    // when the view was destroyed in between; such late transactions are dropped here.
    dispatchTransaction(tr) {
      if (!destroyed) this.updateState(this.state.apply(tr));
    },
    state: EditorState.create({
      schema,
      plugins: [
        ySyncPlugin(ydoc.getXmlFragment(FRAGMENT)),
        yCursorPlugin(provider.awareness, { cursorBuilder: cursorElement, selectionBuilder: selectionAttrs }),
        yUndoPlugin(),
        keymap(editingKeymap),
        keymap(baseKeymap),
        imageDropPlugin({ docName: name, askAlt, onError: onImageError }),
        notifyChanges,
      ],
    }),
    editable: () => writable,
    attributes: { ...attributes, role: 'textbox', 'aria-multiline': 'true', 'aria-readonly': String(!writable), spellcheck: 'true' },
  });
  onChange?.(view.state);

  return {
    view,
    destroy() {
      // Network first, so nothing arrives for a view that is gone.
      provider.awareness.off('change', reportPeers);
      provider.destroy();
      local?.destroy();
      destroyed = true;
      view.destroy();
      ydoc.destroy();
    },
  };
}
