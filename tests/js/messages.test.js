// Asking the teacher privately in headless Chromium: a pupil raises a hand with a question, the
// teacher sees it in the queue, answers in the private thread and says "coming"; another
// pupil's page never shows any of it — checked on her DOM and on every frame her socket
// received. Then announcements, the class chat with deletion, and random groups. axe-core on
// both pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tavlaAndChromium, signedIn, lessonWithPupils, checkAccessibility, screenshot, expectHeading } from './harness.js';

const env = tavlaAndChromium({ before, after });

const QUESTION = 'Jeg skjønner ikke oppgave 3b';
const ANSWER = 'Se på eksempelet på side 12';

test('a private question reaches the teacher alone; announcements, chat and groups reach the class', async () => {
  const allowedOrigins = [env.tavla.base];
  const { teacher: kariApi, lesson, pupils: [olaApi, saraApi] } = await lessonWithPupils(env.tavla, ['Ola', 'Sara']);
  // What people write never reaches the box's log (checked when Tavla stops).
  for (const text of [QUESTION, ANSWER]) env.tavla.sensitive.add(text);
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins });
  const ola = await signedIn(env.browser, env.tavla, olaApi, { allowedOrigins, viewport: { width: 1024, height: 768 } });
  const sara = await signedIn(env.browser, env.tavla, saraApi, { allowedOrigins, viewport: { width: 360, height: 740 } });
  const [k, o, s] = [kari.page, ola.page, sara.page];

  // Everything Sara's page receives over its sockets.
  const saraFrames = [];
  s.on('websocket', (socket) => socket.on('framereceived', (frame) => saraFrames.push(String(frame.payload))));

  await k.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  await expectHeading(k, 'Time: 7B');
  await k.getByText('Ingen har rukket opp hånda.').waitFor();
  for (const page of [o, s]) {
    await page.goto(`${env.tavla.base}/lesson`);
    await expectHeading(page, 'Time i 7B');
    await page.getByText('Koblet til timen.').waitFor();
  }
  await checkAccessibility(s, 'pupil page with messages');

  // Ola asks, from the keyboard.
  await o.getByLabel('Spørsmål til læreren (valgfritt)').fill(QUESTION);
  await o.getByRole('button', { name: 'Rekk opp hånda' }).focus();
  await o.keyboard.press('Enter');
  await o.getByText('Hånda di er oppe. Du er nummer 1 i køen.').waitFor();
  await o.getByRole('list', { name: 'Meldinger med læreren' }).getByText(QUESTION).waitFor();

  // Kari sees the hand and the question, answers privately and says she is coming.
  const queue = k.locator('.hand-queue');
  await queue.getByText('Ola', { exact: true }).waitFor();
  await queue.getByText(QUESTION).waitFor();
  await k.getByRole('heading', { name: 'Rekte hender (1)' }).waitFor();
  await k.getByRole('button', { name: 'Svar Ola' }).click();
  await k.getByRole('heading', { name: 'Meldinger med Ola' }).waitFor();
  await k.locator('.thread-view').getByText(QUESTION).waitFor();
  // "Svar" puts her in the reply box, ready to type.
  const replyBox = k.getByLabel('Svar', { exact: true });
  assert.ok(await replyBox.evaluate((el) => el === document.activeElement), 'focus is in the reply box');
  await k.keyboard.type(ANSWER);
  await k.keyboard.press('Enter');
  await o.getByRole('list', { name: 'Meldinger med læreren' }).getByText(ANSWER).waitFor();
  // An answer lowers the hand, with a moment to undo: she keeps it up, to walk over too.
  await k.getByText('Ola har fått svar: hånda tas ned om et øyeblikk.').waitFor();
  await k.getByRole('button', { name: 'Angre (la hånda være oppe)' }).click();
  // The teacher's role is a badge from the box beside her name, not words a name could copy.
  const answer = o.getByRole('list', { name: 'Meldinger med læreren' }).locator('.message').filter({ hasText: ANSWER });
  assert.equal(await answer.locator('.author').textContent(), 'Kari');
  assert.equal(await answer.locator('.badge.role').textContent(), 'lærer');
  // A picture goes along privately, too.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  await o.getByLabel('Legg ved bilde eller fil (PNG, JPEG, GIF, WebP, PDF, tekst)').setInputFiles({ name: 'oppgave.png', mimeType: 'image/png', buffer: png });
  await o.getByLabel('Lenke til et dokument').selectOption({ label: 'Mitt dokument' });
  await o.getByRole('button', { name: 'Send' }).first().click();
  await k.locator('.thread-view').getByRole('img', { name: 'Bilde: oppgave.png' }).waitFor();
  await k.locator('.thread-view').getByRole('link', { name: 'Åpne dokumentet' }).waitFor();
  await k.getByRole('button', { name: 'Jeg kommer' }).click();
  await o.getByText('Læreren kommer til deg.').waitFor();
  await checkAccessibility(k, 'teacher lesson page with a raised hand and a thread');
  await screenshot(k, 'teacher-hands-and-thread');

  // Sara raises her hand too: she is second, and learns nothing about who is first.
  await s.getByRole('button', { name: 'Rekk opp hånda' }).click();
  await s.getByText('Hånda di er oppe. Du er nummer 2 i køen.').waitFor();
  await k.getByRole('heading', { name: 'Rekte hender (2)' }).waitFor();
  // Kari answers Sara in writing and does not undo: Sara's hand goes down by itself, and
  // Ola's, kept up, stays.
  await k.getByRole('button', { name: 'Svar Sara' }).click();
  await k.keyboard.type('Ja, bruk kalkulator');
  await k.keyboard.press('Enter');
  await s.getByRole('button', { name: 'Rekk opp hånda' }).waitFor({ timeout: 20000 });
  await k.getByRole('heading', { name: 'Rekte hender (1)' }).waitFor();
  await k.locator('.hand-queue').getByText('Ola', { exact: true }).waitFor();

  // An announcement reaches both pupils, prominently; it is also the last thing Sara is sent
  // before the checks below, so everything earlier has arrived.
  await k.getByRole('tab', { name: 'Kunngjøring og chat' }).click();
  await k.getByLabel('Hva vil du si til klassen?').fill('Husk gymtøy i morgen');
  await k.getByRole('button', { name: 'Kunngjør' }).click();
  for (const page of [o, s]) await page.locator('.announcement').getByText('Husk gymtøy i morgen').waitFor();
  // Kari sees what she announced.
  await k.getByRole('list', { name: 'Sendte kunngjøringer' }).getByText('Husk gymtøy i morgen').waitFor();
  await screenshot(s, 'pupil-announcement');

  const saraSees = await s.locator('body').innerText();
  for (const secret of [QUESTION, ANSWER, 'oppgave.png']) {
    assert.ok(!saraSees.includes(secret), `Sara's page shows "${secret}"`);
    assert.ok(!saraFrames.some((f) => f.includes(secret)), `Sara's socket received "${secret}"`);
  }
  assert.ok(!saraFrames.some((f) => f.includes('"type":"hands"')), 'Sara was sent the hand queue');
  assert.ok(saraFrames.some((f) => f.includes('Husk gymtøy')), 'the frame capture works');

  // The class chat is closed until Kari opens it; a deleted message is gone for everyone.
  const saraChat = s.getByLabel('Skriv til klassen');
  assert.ok(await saraChat.isDisabled(), 'closed chat cannot be written in');
  await k.getByLabel('Åpne klassechatten for elevene').check();
  const chatId = await saraChat.getAttribute('id');
  await s.waitForFunction((id) => !document.getElementById(id).disabled, chatId);
  await saraChat.fill('Hei alle sammen');
  await saraChat.press('Enter');
  await o.getByRole('list', { name: 'Klassechat' }).getByText('Hei alle sammen').waitFor();
  await k.getByRole('list', { name: 'Klassechat' }).getByText('Hei alle sammen').waitFor();
  await k.getByRole('list', { name: 'Klassechat' }).getByRole('button', { name: 'Slett' }).click();
  await o.getByRole('list', { name: 'Klassechat' }).getByText('(Meldingen er slettet.)').waitFor();
  assert.equal(await o.getByText('Hei alle sammen').count(), 0);

  // Random pairs: both pupils are told their group and get its document.
  await k.getByRole('tab', { name: 'Grupper' }).click();
  await k.getByRole('button', { name: 'Lag tilfeldige grupper' }).click();
  for (const page of [o, s]) {
    await page.getByRole('heading', { name: 'Gruppa mi' }).waitFor();
    await page.getByText('Gruppe 1: ').waitFor();
    await page.getByRole('link', { name: 'Åpne gruppedokumentet' }).waitFor();
  }
  await checkAccessibility(o, 'pupil page with a group');

  for (const who of [kari, ola, sara]) assert.deepEqual(who.problems, []);
});
