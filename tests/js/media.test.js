// Live media in headless Chromium with fake camera and microphone, through Tavla's SFU: the
// teacher goes live (camera in simulcast layers), a pupil at home sees and hears it
// (getStats: frames decoded, audio samples received), raises his hand and is let speak with
// his camera, and the teacher's page receives his voice and picture until she ends it; then
// a private call from his private thread. A pupil in the room gets no media unless she asks,
// and the box refuses her the call. A phone paired by the teacher's link sends the classroom
// camera instead, and plays the voice of a pupil let speak. axe-core on the pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tavlaAndChromium, signedIn, person, lessonWithPupils, checkAccessibility, screenshot, expectHeading, recordPeers, grows } from './harness.js';

const env = tavlaAndChromium({ before, after });

test('the teacher goes live, a pupil at home sees and hears it, speaks when let, and takes a private call', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson, pupils: [olaApi, saraApi] } = await lessonWithPupils(env.tavla, [{ name: 'Ola', atHome: true }, 'Sara'], { className: '8C' });
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins });
  const ola = await signedIn(env.browser, env.tavla, olaApi, { allowedOrigins, viewport: { width: 1024, height: 768 } });
  const sara = await signedIn(env.browser, env.tavla, saraApi, { allowedOrigins, viewport: { width: 360, height: 740 } });
  const [k, o, s] = [kari.page, ola.page, sara.page];
  for (const page of [k, o, s]) await page.addInitScript(recordPeers);
  const saraFrames = [];
  s.on('websocket', (socket) => socket.on('framereceived', (frame) => saraFrames.push(String(frame.payload))));

  // Before anything is live, Ola at home is told he waits, and offered no controls yet.
  await o.goto(`${env.tavla.base}/lesson`);
  await o.getByText('Venter på at læreren starter sendingen.').waitFor();
  assert.equal(await o.getByLabel('Lydstyrke').isVisible(), false, 'no volume before anything plays');

  await k.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  await expectHeading(k, 'Time: 8C');
  await k.getByRole('tab', { name: 'Direkte' }).click();
  // Before anything is started the device menus say when the choice comes, not nothing.
  await k.locator('.media-panel select').first().getByText('Velges når du starter').waitFor({ state: 'attached' });
  await k.getByRole('button', { name: 'Start kamera og mikrofon' }).click();
  await k.getByRole('tabpanel', { name: 'Direkte' }).getByText('Du sender direkte.').waitFor();

  // Ola follows from home: the stream starts by itself.
  await o.goto(`${env.tavla.base}/lesson`);
  await expectHeading(o, 'Time i 8C');
  await o.getByLabel('Læreren', { exact: true }).waitFor();
  await o.getByLabel('Lydstyrke').waitFor();
  await grows(o, 'video', 'framesDecoded');
  await grows(o, 'audio', 'totalSamplesReceived');
  // What Ola sees: a picture that is not black and moves (Chromium's fake camera draws a
  // turning figure), from a 640×480 camera whose top simulcast layer Chromium leaves off.
  await o.waitForFunction(() => {
    const video = document.querySelector('.media-stage video');
    if (!video?.videoWidth) return false;
    const canvas = Object.assign(document.createElement('canvas'), { width: 32, height: 24 });
    const context = canvas.getContext('2d', { willReadFrequently: true });
    context.drawImage(video, 0, 0, 32, 24);
    const data = context.getImageData(0, 0, 32, 24).data;
    let brightness = 0;
    for (let i = 0; i < data.length; i += 4) brightness += data[i] + data[i + 1] + data[i + 2];
    brightness /= (data.length / 4) * 3;
    const signature = Array.from(data).join(',');
    const moved = window.lastPicture !== undefined && window.lastPicture !== signature;
    window.lastPicture = signature;
    return brightness > 20 && moved;
  }, null, { polling: 500, timeout: 30000 });
  assert.equal(await o.locator('.media-stage .notice:not([hidden])').count(), 0, 'no "no picture" or "start" notice');
  // Kari's camera goes out in simulcast layers; Ola decodes the one the box picked for him.
  const layers = await k.evaluate(async () => {
    const rids = new Set();
    for (const pc of window.testPeers) {
      for (const report of (await pc.getStats()).values()) {
        if (report.type === 'outbound-rtp' && report.kind === 'video' && report.rid && report.packetsSent > 0) rids.add(report.rid);
      }
    }
    return [...rids].sort();
  });
  assert.ok(layers.length >= 2, `simulcast layers sent: ${layers}`);
  assert.equal(await o.evaluate(() => window.testPeers.length), 1, 'one receiving peer connection');
  await checkAccessibility(o, 'pupil at home watching the lesson');
  await screenshot(o, 'pupil-at-home-stream');

  // Sara is in the room: no media unless she asks.
  await s.goto(`${env.tavla.base}/lesson`);
  await expectHeading(s, 'Time i 8C');
  await s.getByRole('button', { name: 'Se sendingen' }).waitFor();
  assert.equal(await s.evaluate(() => window.testPeers.length), 0, 'no peer connection for a pupil in the room');

  // Ola raises his hand to speak; Kari lets him from the queue, with his camera, and his
  // voice and picture reach her page.
  await k.getByLabel('Elever som får snakke, kan også vise seg på kamera').check();
  await o.getByRole('button', { name: 'Rekk opp hånda' }).click();
  await k.locator('.hand-queue').getByRole('button', { name: 'La Ola snakke' }).click();
  await o.getByText('Læreren lar deg snakke.').first().waitFor();
  await o.getByRole('button', { name: 'Slå på mikrofonen og snakk' }).click();
  await o.getByText('Mikrofonen din er på. Klassen hører deg.').waitFor();
  await k.getByLabel('Ola snakker').waitFor({ state: 'attached' });
  await grows(k, 'audio', 'totalSamplesReceived');
  await grows(k, 'video', 'framesDecoded');
  assert.equal(await k.getByLabel('Ola snakker').evaluate((el) => el.tagName), 'VIDEO');
  await checkAccessibility(k, 'teacher live with a pupil speaking');
  await screenshot(k, 'teacher-live-pupil-speaking');

  // Kari ends it: Ola's microphone stops and his voice leaves Kari's page.
  await k.getByRole('button', { name: 'Stopp Ola' }).click();
  await o.getByText('Du snakker ikke lenger til klassen.').first().waitFor();
  await k.getByLabel('Ola snakker').waitFor({ state: 'detached' });
  assert.equal(await o.evaluate(() => window.testPeers.filter((pc) => pc.getSenders().some((sender) => sender.track?.kind === 'audio' && sender.track.readyState === 'live') && pc.connectionState !== 'closed').length), 0,
    'no live microphone is sent from Ola any more');

  // A private call from Ola's private thread: only Kari and Ola hear it.
  await k.getByRole('button', { name: 'Meldinger med Ola', exact: true }).click();
  await k.locator('.thread-view').getByRole('button', { name: 'Ring Ola' }).click();
  await o.getByText('Læreren ringer deg. Bare dere to hører samtalen.').waitFor();
  await o.getByRole('button', { name: 'Svar' }).click();
  await o.getByLabel('Læreren i samtalen').waitFor({ state: 'attached' });
  await k.getByLabel('Samtale med Ola').waitFor({ state: 'attached' });
  await grows(k, 'audio', 'totalSamplesReceived');
  // Sara's page asks the box for the call herself: refused.
  const refusal = await s.evaluate(() => new Promise((resolve) => {
    const socket = new WebSocket(`wss://${location.host}/ws`);
    socket.onopen = () => socket.send(JSON.stringify({ type: 'media_watch', sources: ['call'] }));
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === 'media_refused') { socket.close(); resolve(msg); }
    };
  }));
  assert.equal(refusal.code, 'forbidden');
  await k.getByRole('button', { name: 'Legg på' }).click();
  await o.getByText('Samtalen er avsluttet.').first().waitFor();
  assert.ok(!saraFrames.some((f) => f.includes('media_call') || f.includes('media_offer')), 'Sara heard nothing of the call');
  assert.deepEqual([...kari.problems, ...ola.problems, ...sara.problems], []);
});

test('a phone paired by the teacher\'s link sends the classroom camera to a pupil at home and plays her voice', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson, pupils: [noraApi] } = await lessonWithPupils(env.tavla, [{ name: 'Nora', atHome: true }], { className: '9D' });
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins });
  const nora = await signedIn(env.browser, env.tavla, noraApi, { allowedOrigins });
  const phone = await person(env.browser, { allowedOrigins, viewport: { width: 390, height: 844 } });
  const [k, n, p] = [kari.page, nora.page, phone.page];
  for (const page of [k, n, p]) await page.addInitScript(recordPeers);

  await k.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  await expectHeading(k, 'Time: 9D');
  await k.getByRole('tab', { name: 'Direkte' }).click();
  await k.getByText('Ingen klasseromskamera sender.').waitFor();
  await k.getByRole('button', { name: 'Koble til et klasseromskamera' }).click();
  await k.getByRole('img', { name: 'Kode som skannes med kameraenheten' }).waitFor();
  const link = await k.locator('input.camera-url').inputValue();
  assert.ok(link.startsWith(`${env.tavla.base}/camera#`), link);
  await checkAccessibility(k, 'teacher with a classroom camera link');

  // The phone opens the link (as scanning the code would) and becomes the camera.
  await p.goto(link);
  await expectHeading(p, 'Klasseromskamera');
  await checkAccessibility(p, 'classroom camera before pairing');
  await p.getByRole('button', { name: 'Bruk denne enheten som klasseromskamera' }).click();
  await p.getByText('Sender: elevene hjemme ser og hører klasserommet.').waitFor();
  assert.equal(new URL(p.url()).hash, '', 'the used link leaves the address bar');
  await k.getByText('Klasseromskameraet sender.').waitFor();

  // Nora at home sees and hears the classroom.
  await n.goto(`${env.tavla.base}/lesson`);
  await n.getByLabel('Klasseromskamera', { exact: true }).waitFor();
  await grows(n, 'video', 'framesDecoded');
  await grows(n, 'audio', 'totalSamplesReceived');
  await checkAccessibility(p, 'classroom camera sending');
  await screenshot(p, 'classroom-camera');

  // Kari lets Nora speak: her voice plays on the phone, whose microphone hears the room, and
  // not on Kari's page.
  await k.getByRole('button', { name: 'La Nora snakke' }).click();
  await n.getByRole('button', { name: 'Slå på mikrofonen og snakk' }).click();
  await grows(p, 'audio', 'totalSamplesReceived');
  await p.getByLabel('En elev som snakker').waitFor({ state: 'attached' });
  await k.getByLabel('Nora snakker').waitFor({ state: 'attached' });
  assert.equal(await k.getByLabel('Nora snakker').evaluate((el) => el.muted), true, 'not played twice');
  await k.getByRole('button', { name: 'Stopp Nora' }).click();
  await p.getByLabel('En elev som snakker').waitFor({ state: 'detached' });

  // The phone stops; the teacher's page says so. A reload keeps it the camera.
  await p.getByRole('button', { name: 'Stopp sending' }).click();
  await k.getByText('Ingen klasseromskamera sender.').waitFor();
  await p.reload();
  await p.getByRole('button', { name: 'Start sending' }).waitFor();
  assert.deepEqual([...kari.problems, ...nora.problems, ...phone.problems], []);
});

// What Safari on an iPad and Chromium without this suite's flag do: a page may not start
// playing sound before the person has touched it.
function playOnlyAfterAClick() {
  let touched = false;
  for (const type of ['pointerdown', 'keydown']) window.addEventListener(type, () => { touched = true; }, true);
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function playWhenAllowed() {
    if (!this.muted && !touched) return Promise.reject(new DOMException('play() needs a click first', 'NotAllowedError'));
    return play.call(this);
  };
}

test('where the browser waits for a click to play, the pupil at home gets a start button, not a silent black box', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson, pupils: [noraApi] } = await lessonWithPupils(env.tavla, [{ name: 'Nora', atHome: true }], { className: '8D' });
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins });
  const nora = await signedIn(env.browser, env.tavla, noraApi, { allowedOrigins, viewport: { width: 390, height: 844 } });
  await nora.page.addInitScript(playOnlyAfterAClick);
  await kari.page.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  await kari.page.getByRole('tab', { name: 'Direkte' }).click();
  await kari.page.getByRole('button', { name: 'Start kamera og mikrofon' }).click();
  await kari.page.getByRole('tabpanel', { name: 'Direkte' }).getByText('Du sender direkte.').waitFor();
  await nora.page.goto(`${env.tavla.base}/lesson`);
  const start = nora.page.getByRole('button', { name: 'Start bilde og lyd' });
  await start.waitFor();
  await nora.page.getByText('Nettleseren venter på at du starter avspillingen.').waitFor();
  assert.equal(await nora.page.locator('.media-stage video').evaluate((video) => video.paused), true);
  await checkAccessibility(nora.page, 'pupil at home, playing waits for a click');
  await start.click();
  await nora.page.waitForFunction(() => {
    const video = document.querySelector('.media-stage video');
    return video && !video.paused && video.videoWidth > 0;
  }, null, { timeout: 30000 });
  await start.waitFor({ state: 'hidden' });
  await nora.page.getByText('Nettleseren venter på at du starter avspillingen.').waitFor({ state: 'hidden' });
  assert.deepEqual([...kari.problems, ...nora.problems], []);
});

test('a second picture beside the teacher\'s: the interpreter, pinned for a pupil at home in any layout', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson, pupils: [noraApi] } = await lessonWithPupils(env.tavla, [{ name: 'Nora', atHome: true }], { className: '8E' });
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins });
  const nora = await signedIn(env.browser, env.tavla, noraApi, { allowedOrigins });
  const [k, n] = [kari.page, nora.page];
  await k.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  await k.getByRole('tab', { name: 'Direkte' }).click();
  await k.getByRole('button', { name: 'Start kamera og mikrofon' }).click();
  await k.getByRole('tabpanel', { name: 'Direkte' }).getByText('Du sender direkte.').waitFor();
  // Kari says what the second camera shows, and starts it.
  await k.getByLabel('Hva viser det?').selectOption('interpreter');
  await k.getByRole('button', { name: 'Start det andre bildet' }).click();
  await k.getByRole('tabpanel', { name: 'Direkte' }).getByText('Det andre bildet sendes: Tegnspråktolk.').waitFor();
  await checkAccessibility(k, 'the teacher\'s live panel with a second picture');

  await n.goto(`${env.tavla.base}/lesson`);
  await expectHeading(n, 'Time i 8E');
  const moving = (label) => n.waitForFunction((name) => {
    const video = document.querySelector(`.media-stage video[aria-label="${name}"]`);
    return Boolean(video && video.videoWidth > 2 && !video.paused && video.checkVisibility());
  }, label, { timeout: 30000 });
  await moving('Læreren');
  await moving('Tegnspråktolk');
  await n.locator('.media-stage').getByText('Tegnspråktolk', { exact: true }).waitFor();
  // "Only the teacher" still shows the interpreter beside her.
  await n.getByRole('button', { name: 'Bare læreren' }).click();
  await moving('Tegnspråktolk');
  await checkAccessibility(n, 'a pupil at home with the interpreter beside the teacher');

  // Kari stops it: it leaves Nora's page, the teacher's picture stays.
  await k.getByRole('button', { name: 'Stopp det andre bildet' }).click();
  await n.locator('.media-stage video[aria-label="Tegnspråktolk"]').waitFor({ state: 'detached', timeout: 30000 });
  await moving('Læreren');
  assert.deepEqual([...kari.problems, ...nora.problems], []);
});
