// Documents kept in the browser (IndexedDB, with Yjs's own y-indexeddb), so a pupil keeps
// writing when the Wi-Fi drops or the box restarts, and nothing typed meanwhile is lost: it
// merges when the connection is back. A device is often shared: the copies belong to whoever
// signed in, and go when they log out or someone else signs in on it.
import { IndexeddbPersistence } from 'y-indexeddb';
import { forgetKept } from '../protocol/api.js';
import { readStored, writeStored } from '../stored.js';

const PREFIX = 'tavla-doc:';
const OWNER_KEY = 'tavla.local-owner';
/** Names of the databases made here, for browsers that cannot list their databases. */
const NAMES_KEY = 'tavla.local-docs';

const remembered = () => readStored(NAMES_KEY, []);

/** Keeps `ydoc` (document `name`) in this browser; returns the persistence to destroy with it. */
export function keepLocally(name, ydoc) {
  const dbName = PREFIX + name;
  const names = remembered();
  if (!names.includes(dbName)) writeStored(NAMES_KEY, [...names, dbName]);
  return new IndexeddbPersistence(dbName, ydoc);
}

/** Deletes every document kept in this browser. */
export async function forgetLocalDocuments() {
  const listed = indexedDB.databases ? (await indexedDB.databases()).map((db) => db.name) : [];
  const names = new Set([...listed, ...remembered()].filter((n) => n?.startsWith(PREFIX)));
  await Promise.all([...names].map((n) => new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(n);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  })));
  localStorage.removeItem(NAMES_KEY);
  // With the documents go the answers kept for opening the app offline, and unsent messages.
  forgetKept();
  localStorage.removeItem(OUTBOX_KEY);
  localStorage.removeItem(PROFILE_KEY);
}

/** A guest's own settings (a pupil on the class list keeps theirs on the box). */
export const PROFILE_KEY = 'tavla.profile';

/** Where a pupil's messages written offline wait (text until the box has it). */
export const OUTBOX_KEY = 'tavla.outbox';

/**
 * Called with whoever is signed in now (`who`: the /api/me answer): copies another person left
 * on this device are deleted before anything of theirs can show.
 */
export async function keepFor(who) {
  const owner = who.role === 'teacher' ? `t:${who.teacher.id}` : who.pupil ? `p:${who.pupil.id}` : null;
  if (!owner) return;
  const before = localStorage.getItem(OWNER_KEY);
  if (before && before !== owner) await forgetLocalDocuments();
  localStorage.setItem(OWNER_KEY, owner);
}

/** Logging out: this device keeps nothing of the person's documents. */
export async function forgetOnLogout() {
  await forgetLocalDocuments();
  localStorage.removeItem(OWNER_KEY);
}
