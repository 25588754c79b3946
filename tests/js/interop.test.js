// The official Yjs clients, unmodified: npm `yjs`, `y-protocols` and `y-websocket`'s
// WebsocketProvider, talking to Tavla over wss:// with a pupil's session cookie.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { startTavla, lessonWithPupils } from './harness.js';

let tavla;
let people;
const providers = [];

before(async () => {
  tavla = await startTavla();
  people = await lessonWithPupils(tavla, ['Ada', 'Bo']);
});

after(async () => {
  // Destroying the document also stops its awareness timer, which would keep node running.
  for (const p of providers) {
    p.destroy();
    p.doc.destroy();
  }
  await tavla?.stop();
});

/** A WebSocket class for y-websocket that trusts the box's CA and carries `who`'s cookie. */
function socketFor(who) {
  return class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { ca: tavla.caPem, headers: { cookie: who.cookie() } });
    }
  };
}

function connect(who, docName, doc = new Y.Doc()) {
  const provider = new WebsocketProvider(tavla.base.replace('https', 'wss') + '/yjs', docName, doc, {
    WebSocketPolyfill: socketFor(who),
    disableBc: true,
  });
  providers.push(provider);
  return { doc, provider };
}

const synced = (provider) => new Promise((resolve) => {
  if (provider.synced) resolve();
  else provider.once('sync', (isSynced) => isSynced && resolve());
});

/** Resolves once `check()` holds, re-checking after every change of `doc`. */
const until = (doc, check) => new Promise((resolve) => {
  if (check()) return resolve();
  const onUpdate = () => {
    if (check()) {
      doc.off('update', onUpdate);
      resolve();
    }
  };
  doc.on('update', onUpdate);
});

const contentOf = (doc) => JSON.stringify({
  text: doc.getText('t').toString(),
  map: Object.entries(doc.getMap('m').toJSON()).sort(),
  array: doc.getArray('a').toJSON(),
});

test('two providers edit text, map and array concurrently and converge; a latecomer gets it all', async () => {
  const name = `lesson.${people.lesson.id}.class`;
  const ada = connect(people.pupils[0], name);
  const bo = connect(people.pupils[1], name);
  await Promise.all([synced(ada.provider), synced(bo.provider)]);

  // Concurrent: both edit before seeing each other's changes.
  ada.doc.transact(() => {
    ada.doc.getText('t').insert(0, 'Hei frå Ada. ');
    ada.doc.getMap('m').set('tittel', 'Fotosyntese');
    ada.doc.getArray('a').push(['ada']);
  });
  bo.doc.transact(() => {
    bo.doc.getText('t').insert(0, 'Bo her 😀. ');
    bo.doc.getMap('m').set('farge', 'grøn');
    bo.doc.getArray('a').push(['bo']);
  });
  const complete = (doc) => doc.getArray('a').length === 2 && doc.getMap('m').size === 2
    && doc.getText('t').toString().includes('Ada') && doc.getText('t').toString().includes('Bo');
  await Promise.all([until(ada.doc, () => complete(ada.doc)), until(bo.doc, () => complete(bo.doc))]);
  assert.equal(contentOf(ada.doc), contentOf(bo.doc));
  // UTF-16 offsets agree with JavaScript: an insert after the emoji lands where Bo put it.
  bo.doc.getText('t').insert(bo.doc.getText('t').toString().indexOf('😀') + 2, '!');
  await until(ada.doc, () => ada.doc.getText('t').toString().includes('😀!'));

  const late = connect(people.teacher, name);
  await synced(late.provider);
  await until(late.doc, () => contentOf(late.doc) === contentOf(ada.doc));
  assert.equal(contentOf(late.doc), contentOf(bo.doc));
});

test('awareness states appear for others and disappear when a client leaves', async () => {
  const name = `lesson.${people.lesson.id}.class`;
  const ada = connect(people.pupils[0], name);
  const bo = connect(people.pupils[1], name);
  await Promise.all([synced(ada.provider), synced(bo.provider)]);
  const adaId = ada.doc.clientID;
  const seenByBo = (predicate) => new Promise((resolve) => {
    const check = () => {
      if (predicate(bo.provider.awareness.getStates())) {
        bo.provider.awareness.off('change', check);
        resolve();
      }
    };
    bo.provider.awareness.on('change', check);
    check();
  });
  const closes = [];
  for (const p of [ada.provider, bo.provider]) p.on('connection-close', (event) => closes.push(event?.code));
  ada.provider.awareness.setLocalStateField('user', { name: 'Ada', color: '#0b4f8a' });
  await seenByBo((states) => states.get(adaId)?.user?.name === 'Ada');
  // Bo's provider passes Ada's state on to the box, as y-websocket does with every change it
  // hears; the box drops such relays, so nobody is cut off. A round trip of Bo's own cursor
  // after the relay proves his connection is still open.
  const boId = bo.doc.clientID;
  const seenByAda = new Promise((resolve) => {
    const check = () => ada.provider.awareness.getStates().get(boId)?.user?.name === 'Bo' && resolve();
    ada.provider.awareness.on('change', check);
  });
  bo.provider.awareness.setLocalStateField('user', { name: 'Bo', color: '#1d6b2f' });
  await seenByAda;
  assert.deepEqual(closes, [], 'no connection was closed');
  ada.provider.destroy();
  await seenByBo((states) => !states.has(adaId));
});

test('a pupil is refused a document they may not read, and a read-only write closes with 4003', async () => {
  const notes = connect(people.pupils[0], `lesson.${people.lesson.id}.notes`);
  await new Promise((resolve) => notes.provider.once('connection-error', resolve));
  assert.equal(notes.provider.synced, false);
  assert.equal(notes.doc.getText('t').toString(), '');
  notes.provider.destroy();

  const name = `lesson.${people.lesson.id}.class`;
  const settings = await people.teacher.call('PUT', `/api/docs/${name}/settings`, { read_only: true });
  assert.equal(settings.status, 200);
  const bo = connect(people.pupils[1], name);
  await synced(bo.provider);
  const closed = new Promise((resolve) => bo.provider.once('connection-close', (event) => resolve(event.code)));
  bo.doc.getText('t').insert(0, 'ikkje lov');
  assert.equal(await closed, 4003);
  bo.provider.destroy();
  await people.teacher.call('PUT', `/api/docs/${name}/settings`, { read_only: false });
});

test('a pupil the teacher removes is cut off: the official provider is closed with 4002 and what it writes afterwards is not kept', async () => {
  const { teacher, lesson, pupils: [cato, dina] } = await lessonWithPupils(tavla, ['Cato', 'Dina'], { className: '7C' });
  const name = `lesson.${lesson.id}.class`;
  const kari = connect(teacher, name);
  const c = connect(cato, name);
  const d = connect(dina, name);
  await Promise.all([synced(kari.provider), synced(c.provider), synced(d.provider)]);
  c.doc.getText('t').insert(0, 'before. ');
  await until(kari.doc, () => kari.doc.getText('t').toString().includes('before'));
  const closed = new Promise((resolve) => c.provider.on('connection-close', (event) => resolve(event?.code)));

  const { body: me } = await cato.call('GET', '/api/me');
  const removed = await teacher.call('DELETE', `/api/lessons/${lesson.id}/participants/${me.pupil.id}`);
  assert.equal(removed.status, 200);
  c.doc.getText('t').insert(0, 'ghost. ');
  assert.equal(await closed, 4002);
  c.provider.disconnect();

  // Dina carries on; the teacher sees her, never the ghost.
  d.doc.getText('t').insert(0, 'still here. ');
  await until(kari.doc, () => kari.doc.getText('t').toString().includes('still here'));
  assert.ok(!kari.doc.getText('t').toString().includes('ghost'), kari.doc.getText('t').toString());
  // A fresh provider of the teacher's reads what the box stored.
  const fresh = connect(teacher, name);
  await synced(fresh.provider);
  const stored = fresh.doc.getText('t').toString();
  assert.ok(stored.includes('before') && stored.includes('still here') && !stored.includes('ghost'), stored);
  assert.equal((await cato.call('GET', '/api/docs')).status, 401, 'his session ended too');
});
