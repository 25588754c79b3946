// The pupil never leaves the lesson: a document opens inside the lesson page, on the same
// connection, with the hand, the messages, the announcements and the live picture beside it.
// In headless Chromium: Ola opens his group's document, raises his hand from there, hears an
// announcement while writing, and goes back, all on one /ws; a phone shows it without
// scrolling sideways. axe-core on the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tavlaAndChromium, signedIn, lessonWithPupils, checkAccessibility, screenshot, expectHeading } from './harness.js';

const env = tavlaAndChromium({ before, after });

test('a document opens inside the lesson page: hand, announcements and messages stay, on one connection', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson, pupils: [olaApi, saraApi] } = await lessonWithPupils(env.tavla, ['Ola', 'Sara'], { className: '8A' });
  const QUESTION = 'Skal vi skrive på nynorsk?';
  env.tavla.sensitive.add(QUESTION);
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins });
  const ola = await signedIn(env.browser, env.tavla, olaApi, { allowedOrigins });
  const sara = await signedIn(env.browser, env.tavla, saraApi, { allowedOrigins, viewport: { width: 390, height: 844 } });
  const [k, o, s] = [kari.page, ola.page, sara.page];
  const olaSockets = [];
  o.on('websocket', (socket) => { if (new URL(socket.url()).pathname === '/ws') olaSockets.push(socket.url()); });

  assert.equal((await kariApi.call('POST', `/api/lessons/${lesson.id}/groups/random`, { size: 2, present_only: false })).status, 200);
  await k.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  await expectHeading(k, 'Time: 8A');
  await o.goto(`${env.tavla.base}/lesson`);
  await expectHeading(o, 'Time i 8A');
  await o.getByText('Koblet til timen.').waitFor();

  // The group document opens in the page: its title is the heading, the lesson is beside it.
  await o.getByRole('link', { name: 'Åpne gruppedokumentet' }).click();
  await expectHeading(o, 'Gruppedokument 1');
  await o.getByText('Tilkoblet. Endringene lagres mens du skriver.').waitFor();
  const side = o.getByRole('complementary', { name: 'Timen' });
  await side.getByRole('button', { name: 'Rekk opp hånda' }).waitFor();
  await o.locator('.ProseMirror').click();
  await o.keyboard.type('Vi skriver om elg.');

  // A hand from inside the document reaches the teacher.
  await side.getByLabel('Spørsmål til læreren (valgfritt)').fill(QUESTION);
  await side.getByRole('button', { name: 'Rekk opp hånda' }).click();
  await side.getByText('Hånda di er oppe. Du er nummer 1 i køen.').waitFor();
  await k.locator('.hand-queue').getByText(QUESTION).waitFor();

  // An announcement reaches him where he writes.
  await k.getByRole('tab', { name: 'Kunngjøring og chat' }).click();
  await k.getByLabel('Hva vil du si til klassen?').fill('5 minutter igjen');
  await k.getByRole('button', { name: 'Kunngjør' }).click();
  await side.locator('.announcement').getByText('5 minutter igjen').waitFor();
  await checkAccessibility(o, 'a group document inside the lesson page');
  await screenshot(o, 'pupil-document-in-lesson');

  // Back to the lesson page: still the same connection, the hand still up.
  await o.getByRole('link', { name: 'Tilbake' }).click();
  await expectHeading(o, 'Time i 8A');
  await o.getByText('Hånda di er oppe. Du er nummer 1 i køen.').waitFor();
  assert.equal(olaSockets.length, 1, `one /ws for the whole visit: ${olaSockets}`);

  // A link straight to a document (from a message, a bookmark) opens it the same way.
  await s.goto(`${env.tavla.base}/doc?name=${encodeURIComponent(`lesson.${lesson.id}.class`)}`);
  await expectHeading(s, 'Klassens dokument');
  await s.getByRole('complementary', { name: 'Timen' }).locator('.announcement').getByText('5 minutter igjen').waitFor();
  assert.ok(await s.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling on a phone');
  // The formatting buttons are one row there, not five.
  const toolbar = await s.getByRole('toolbar').boundingBox();
  assert.ok(toolbar.height < 80, `the toolbar is ${toolbar.height} px tall on a phone`);
  await checkAccessibility(s, 'the class document inside the lesson page, phone');

  for (const who of [kari, ola, sara]) assert.deepEqual(who.problems, []);
});
