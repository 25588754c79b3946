// A class split over two rooms: Kari teaches in room A and goes live there (Chromium's fake
// camera); box B, paired with A and receiving her class, relays the lesson's stream to pupils at
// home who joined the lesson on B. They decode frames of the camera published on A, and A sends
// one copy to B whether one or three watch there: A's /metrics show one relay and the same
// number of peer connections, while B's grow with its viewers. B's projector shows the other
// room too (axe-checked). Two real boxes on loopback.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { apiClient, boxCertificateHash, launchChromium, lessonWithPupils, signedIn, startTavla, expectHeading, recordPeers, grows, checkAccessibility } from './harness.js';

const running = [];
after(async () => {
  for (const stop of running.reverse()) await stop().catch(() => {});
});

/** One gauge or counter from a box's /metrics. */
const metric = (tavla, name) => new Promise((resolve, reject) => {
  request(`${tavla.base}/metrics`, { ca: tavla.caPem }, (res) => {
    let text = '';
    res.on('data', (chunk) => { text += chunk; });
    res.on('end', () => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      resolve(line ? Number(line.split(' ')[1]) : NaN);
    });
  }).on('error', reject).end();
});

/** Resolves once `check()` holds, looking again every 100 ms; fails after a minute (a hang guard). */
async function eventually(what, check) {
  for (let i = 0; i < 600; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`never happened: ${what}`);
}

test('box B relays the lesson stream of box A to its own viewers, and A sends one copy however many watch on B', async () => {
  const a = await startTavla();
  running.push(() => a.stop());
  const b = await startTavla();
  running.push(() => b.stop());
  const browser = await launchChromium({ trusting: `${await boxCertificateHash(a)},${await boxCertificateHash(b)}` });
  running.push(() => browser.close());
  const origins = (tavla) => [tavla.base, tavla.base.replace('https', 'wss')];

  // Kari's class and running lesson on A; she has an account on B too. She pairs the boxes
  // and lets B receive the class.
  const { teacher: kariA, lesson } = await lessonWithPupils(a, [], { className: '8C' });
  const { teacher: kariB } = await lessonWithPupils(b, [], { className: 'Annen' });
  const classId = (await kariA.call('GET', '/api/classes')).body.classes.find((c) => c.name === '8C').id;
  const code = (await kariA.call('POST', '/api/boxes/pairing')).body;
  const paired = await kariB.call('POST', '/api/boxes/paired', { address: a.syncAddress, code: code.code, fingerprint: code.fingerprint });
  assert.equal(paired.status, 200, JSON.stringify(paired.body));
  const bOnA = (await kariA.call('GET', '/api/boxes/paired')).body.paired[0];
  assert.equal((await kariA.call('PUT', `/api/boxes/paired/${bOnA.box_id}/shares`, { classes: [classId] })).status, 200);
  await eventually('the class and its lesson arrive on B', async () => (await kariB.call('GET', '/api/classes')).body.classes.some((c) => c.id === classId));

  // Kari goes live in room A.
  const kari = await signedIn(browser, a, kariA, { allowedOrigins: origins(a) });
  await kari.page.goto(`${a.base}/teacher/lesson?id=${lesson.id}`);
  await expectHeading(kari.page, 'Time: 8C');
  await kari.page.getByRole('tab', { name: 'Direkte' }).click();
  await kari.page.getByRole('button', { name: 'Start kamera og mikrofon' }).click();
  await kari.page.getByRole('tabpanel', { name: 'Direkte' }).getByText('Du sender direkte.').waitFor();
  await eventually('her camera and microphone reach box A', async () => (await metric(a, 'tavla_media_tracks')) >= 2);
  const peersOnAWithoutRelay = await metric(a, 'tavla_media_peers');
  assert.equal(await metric(a, 'tavla_media_relays_out'), 0, 'nothing relayed before anyone watches on B');

  // Pupils at home join the lesson on box B with its join code, and watch.
  const watchOnB = async (name) => {
    const api = apiClient(b);
    b.sensitive.add(name);
    const joined = await api.call('POST', '/api/join', { code: lesson.code, name, at_home: true });
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    const pupil = await signedIn(browser, b, api, { allowedOrigins: origins(b) });
    await pupil.page.addInitScript(recordPeers);
    await pupil.page.goto(`${b.base}/lesson`);
    await expectHeading(pupil.page, 'Time i 8C');
    await pupil.page.getByLabel('Læreren', { exact: true }).waitFor();
    await grows(pupil.page, 'video', 'framesDecoded');
    return pupil;
  };
  const ola = await watchOnB('Ola');
  assert.equal(await metric(a, 'tavla_media_relays_out'), 1, 'A sends the lesson to B once');
  assert.equal(await metric(a, 'tavla_media_peers'), peersOnAWithoutRelay + 1, 'one peer connection on A for box B');
  assert.equal(await metric(b, 'tavla_media_relays_in'), 1);
  const peersOnBWithOne = await metric(b, 'tavla_media_peers');

  const sara = await watchOnB('Sara');
  const nils = await watchOnB('Nils');
  await grows(ola.page, 'video', 'framesDecoded');
  assert.equal(await metric(a, 'tavla_media_relays_out'), 1, 'still one copy to B with three viewers there');
  assert.equal(await metric(a, 'tavla_media_peers'), peersOnAWithoutRelay + 1, 'A has no peer connection per viewer on B');
  assert.equal(await metric(b, 'tavla_media_peers'), peersOnBWithOne + 2, 'B serves its two new viewers itself');
  assert.ok(await metric(b, 'tavla_media_relay_bytes_received') > 0);

  // Kari's colleague in room B puts the other room on B's projector: the same one copy from A.
  const projector = await signedIn(browser, b, kariB, { allowedOrigins: origins(b) });
  await projector.page.addInitScript(recordPeers);
  await projector.page.goto(`${b.base}/teacher/projector?id=${lesson.id}`);
  await projector.page.getByRole('heading', { level: 2, name: /^Direkte fra / }).waitFor();
  await projector.page.getByRole('button', { name: 'Se sendingen' }).click();
  await grows(projector.page, 'video', 'framesDecoded');
  await checkAccessibility(projector.page, 'the projector on box B showing the other room');
  assert.equal(await metric(a, 'tavla_media_relays_out'), 1, 'the projector on B is one more viewer there, not on A');
  await projector.context.close();

  // When nobody watches on B any more, the relay ends (after a short grace for reloads).
  for (const pupil of [ola, sara, nils]) await pupil.context.close();
  await eventually('the relay ends when nobody watches on B', async () => (await metric(a, 'tavla_media_relays_out')) === 0);
  assert.deepEqual([...kari.problems, ...ola.problems, ...sara.problems, ...nils.problems, ...projector.problems], []);
});
