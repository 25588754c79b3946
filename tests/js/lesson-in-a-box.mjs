// A whole lesson, for capture.test.js to run inside a network namespace: the teacher goes
// live, a pupil at home receives her picture and sound, writes in the class document, asks a
// private question with a raised hand and gets an answer. Exits 0 when every step was seen.
// Not a test file itself (node --test does not pick it up): capture.test.js watches the
// packets it makes.
import assert from 'node:assert/strict';
import { startTavla, launchChromium, boxCertificateHash, lessonWithPupils, signedIn, expectHeading } from './harness.js';

const QUESTION = 'Hvorfor flyter isen?';
const LINE = 'Isen er lettere enn vannet.';

const tavla = await startTavla();
const browser = await launchChromium({ trusting: await boxCertificateHash(tavla) });
try {
  for (const text of [QUESTION, LINE]) tavla.sensitive.add(text);
  const allowedOrigins = [tavla.base, tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson, pupils: [olaApi] } = await lessonWithPupils(tavla, [{ name: 'Ola', atHome: true }], { className: '9A' });
  const kari = await signedIn(browser, tavla, kariApi, { allowedOrigins });
  const ola = await signedIn(browser, tavla, olaApi, { allowedOrigins });
  const [k, o] = [kari.page, ola.page];

  await k.goto(`${tavla.base}/teacher/lesson?id=${lesson.id}`);
  await expectHeading(k, 'Time: 9A');
  await k.getByRole('tab', { name: 'Direkte' }).click();
  await k.getByRole('button', { name: 'Start kamera og mikrofon' }).click();
  await k.getByText('Du sender direkte.').waitFor();

  await o.goto(`${tavla.base}/lesson`);
  await expectHeading(o, 'Time i 9A');
  await o.waitForFunction(() => {
    const video = document.querySelector('.media-stage video');
    return video && video.videoWidth > 0 && video.currentTime > 1;
  }, null, { polling: 250, timeout: 30000 });

  await o.getByLabel('Spørsmål til læreren (valgfritt)').fill(QUESTION);
  await o.getByRole('button', { name: 'Rekk opp hånda' }).click();
  await k.locator('.hand-queue').getByText(QUESTION).waitFor();

  const page = await ola.context.newPage();
  await page.goto(`${tavla.base}/doc?name=${encodeURIComponent(`lesson.${lesson.id}.class`)}`);
  await page.locator('.ProseMirror').click();
  await page.keyboard.type(LINE);
  await k.goto(`${tavla.base}/doc?name=${encodeURIComponent(`lesson.${lesson.id}.class`)}`);
  await k.locator('.ProseMirror').getByText(LINE).waitFor();

  const problems = [...kari.problems, ...ola.problems];
  assert.deepEqual(problems, [], 'no request left the box and no page failed');
} finally {
  await browser.close();
  await tavla.stop();
}
