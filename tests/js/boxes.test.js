// Two classroom boxes, each in a network namespace the test makes, with one veth link between
// them (the school LAN between two rooms) and one from each to the test (its HTTPS API) — never
// the machine's real network. Kari pairs them and shares her class; the link between the boxes
// is taken down; she writes in the class document on both boxes and a message on each; the link
// comes back and both boxes end up with every edit and both messages, once each, in the order
// written. Then one box is stopped while the other keeps working, and catches up when it starts.
// Edits come from the official y-websocket client. Needs root and iproute2; else it is skipped
// and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { apiClient, lessonWithPupils, namespacesUnavailable, startTavla } from './harness.js';

const run = (...args) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
// Each box: an address the test reaches it at, and one on the link between the boxes.
const A = { api: '10.216.1.2', test: '10.216.1.1', link: '10.216.3.1' };
const B = { api: '10.216.2.2', test: '10.216.2.1', link: '10.216.3.2' };

/** Resolves once `check()` holds, looking again every 50 ms; fails after a minute (a hang guard). */
async function eventually(what, check) {
  for (let i = 0; i < 1200; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}

function provider(tavla, who, name) {
  const doc = new Y.Doc();
  const socket = class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { ca: tavla.caPem, headers: { cookie: who.cookie() } });
    }
  };
  const p = new WebsocketProvider(`${tavla.base.replace('https', 'wss')}/yjs`, name, doc, { WebSocketPolyfill: socket, disableBc: true });
  return { doc, p, synced: new Promise((resolve) => p.once('sync', () => resolve())) };
}

/** Opens `/ws` for a lesson as `who`; `send` a request, `history()` for every message's text. */
async function live(tavla, who, lessonId) {
  const ws = new WebSocket(`${tavla.base.replace('https', 'wss')}/ws?lesson=${lessonId}`, { ca: tavla.caPem, headers: { cookie: who.cookie() } });
  const received = [];
  const waiting = [];
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    received.push(message);
    for (const w of [...waiting]) if (w.match(message)) { waiting.splice(waiting.indexOf(w), 1); w.resolve(message); }
  });
  const next = (match) => new Promise((resolve) => {
    const earlier = received.find(match);
    if (earlier) resolve(earlier);
    else waiting.push({ match, resolve });
  });
  await next((m) => m.type === 'welcome');
  let pings = 0;
  return {
    async request(body) {
      const id = ++pings;
      ws.send(JSON.stringify(body));
      ws.send(JSON.stringify({ type: 'ping', id }));
      await next((m) => m.type === 'pong' && m.id === id);
    },
    async history() {
      const from = received.length;
      ws.send(JSON.stringify({ type: 'sync', after: 0 }));
      await next((m) => m.type === 'synced' && received.indexOf(m) >= from);
      return received.slice(from).filter((m) => m.type === 'message').map((m) => m.message.text);
    },
    close: () => ws.close(),
  };
}

test('paired boxes: edits on both while the link is down converge, messages cross once in order, a stopped box catches up', async (t) => {
  const reason = namespacesUnavailable([]);
  if (reason) {
    t.skip(reason);
    return;
  }
  const nsA = `tavla-box-a-${process.pid}`;
  const nsB = `tavla-box-b-${process.pid}`;
  const boxes = [];
  const open = [];
  try {
    run('ip', 'netns', 'add', nsA);
    run('ip', 'netns', 'add', nsB);
    // The test's links to each box, and the link between the boxes.
    run('ip', 'link', 'add', `ta${process.pid % 10000}`, 'type', 'veth', 'peer', 'name', 'up0', 'netns', nsA);
    run('ip', 'link', 'add', `tb${process.pid % 10000}`, 'type', 'veth', 'peer', 'name', 'up0', 'netns', nsB);
    run('ip', '-n', nsA, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', nsB);
    for (const [ns, box, testSide] of [[nsA, A, `ta${process.pid % 10000}`], [nsB, B, `tb${process.pid % 10000}`]]) {
      run('ip', 'addr', 'add', `${box.test}/24`, 'dev', testSide);
      run('ip', 'link', 'set', testSide, 'up');
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      run('ip', '-n', ns, 'addr', 'add', `${box.api}/24`, 'dev', 'up0');
      run('ip', '-n', ns, 'link', 'set', 'up0', 'up');
      run('ip', '-n', ns, 'addr', 'add', `${box.link}/24`, 'dev', 'lan0');
      run('ip', '-n', ns, 'link', 'set', 'lan0', 'up');
    }
    const a = await startTavla({ netns: nsA, address: A.api, syncAddress: A.link });
    boxes.push(a);
    const b = await startTavla({ netns: nsB, address: B.api, syncAddress: B.link });
    boxes.push(b);

    // Kari's class and lesson on box A; she has an account on box B too.
    const { teacher: kariA, lesson } = await lessonWithPupils(a, [], { className: '7B', roster: ['Ada', 'Bo'] });
    const { teacher: kariB } = await lessonWithPupils(b, [], { className: 'Annen' });
    const classes = (await kariA.call('GET', '/api/classes')).body.classes;
    const classId = classes.find((c) => c.name === '7B').id;
    const ada = (await kariA.call('GET', `/api/classes/${classId}`)).body.pupils.find((p) => p.name === 'Ada');
    const thread = `pm.c.${classId}.${ada.id}`;

    // Pairing: a code on A, typed on B with A's address and fingerprint.
    const code = (await kariA.call('POST', '/api/boxes/pairing')).body;
    const paired = await kariB.call('POST', '/api/boxes/paired', { address: a.syncAddress, code: code.code, fingerprint: code.fingerprint });
    assert.equal(paired.status, 200, JSON.stringify(paired.body));
    const bOnA = (await kariA.call('GET', '/api/boxes/paired')).body.paired[0];
    assert.equal(bOnA.address.split(':')[0], B.link, 'A knows B by its address on the link');
    assert.equal((await kariA.call('PUT', `/api/boxes/paired/${bOnA.box_id}/shares`, { classes: [classId] })).status, 200);
    await eventually('the class arrives on B', async () => (await kariB.call('GET', '/api/classes')).body.classes.some((c) => c.id === classId));
    assert.equal((await kariB.call('PUT', `/api/boxes/paired/${paired.body.box_id}/shares`, { classes: [classId] })).status, 200);

    const name = `lesson.${lesson.id}.class`;
    const onA = provider(a, kariA, name);
    const onB = provider(b, kariB, name);
    open.push(onA, onB);
    await Promise.all([onA.synced, onB.synced]);
    onA.doc.getText('t').insert(0, 'Felles start. ');
    await eventually('the start reaches B', () => onB.doc.getText('t').toString().includes('Felles start'));

    // The link between the rooms goes down; both sides keep working.
    run('ip', '-n', nsA, 'link', 'set', 'lan0', 'down');
    onA.doc.getText('t').insert(onA.doc.getText('t').length, 'Skrevet i rom A. ');
    onB.doc.getText('t').insert(0, 'Skrevet i rom B. ');
    const liveA = await live(a, kariA, lesson.id);
    const liveB = await live(b, kariB, lesson.id);
    open.push(liveA, liveB);
    await liveA.request({ type: 'send', client_id: 'a1', thread, text: 'Melding fra rom A' });
    await liveB.request({ type: 'send', client_id: 'b1', thread, text: 'Melding fra rom B' });
    // Nothing crosses while the link is down: B's last sync with A fails.
    await eventually('B notices A is unreachable', async () => {
      const aOnB = (await kariB.call('GET', '/api/boxes/paired')).body.paired[0];
      return aOnB.last_error === 'unreachable';
    });
    assert.ok(!onB.doc.getText('t').toString().includes('rom A'), 'an edit crossed a link that was down');

    run('ip', '-n', nsA, 'link', 'set', 'lan0', 'up');
    const both = (doc) => ['Felles start', 'Skrevet i rom A', 'Skrevet i rom B'].every((s) => doc.getText('t').toString().includes(s));
    await eventually('A has every edit', () => both(onA.doc));
    await eventually('B has every edit', () => both(onB.doc));
    await eventually('the two documents are the same', () => onA.doc.getText('t').toString() === onB.doc.getText('t').toString());

    // Each box: both messages, once each; each box's own before the other's, each side in the
    // order it was written.
    for (const [box, side, order] of [['A', liveA, ['A', 'B']], ['B', liveB, ['B', 'A']]]) {
      await eventually(`${box} has both messages`, async () => (await side.history()).length >= 2);
      assert.deepEqual(await side.history(), order.map((room) => `Melding fra rom ${room}`), `on ${box}`);
    }

    // B is stopped; A keeps working; B catches up when it starts.
    onB.p.destroy();
    await b.pause();
    onA.doc.getText('t').insert(onA.doc.getText('t').length, 'Mens B var av. ');
    await b.resume();
    const again = provider(b, kariB, name);
    open.push(again);
    await again.synced;
    await eventually('B catches up after it starts', () => again.doc.getText('t').toString().includes('Mens B var av'));
  } finally {
    for (const o of open) {
      if (o.p) {
        o.p.destroy();
        o.doc.destroy();
      } else o.close();
    }
    for (const box of boxes) await box.stop().catch(() => {});
    spawnSync('ip', ['netns', 'del', nsA]);
    spawnSync('ip', ['netns', 'del', nsB]);
  }
});
