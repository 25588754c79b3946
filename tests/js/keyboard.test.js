// The keyboard walk: a pupil and a teacher do their main tasks with Tab, Enter, Space and
// typing only — no mouse, no shortcuts. The teacher opens her class and starts a lesson; the
// pupil joins with the code, raises a hand with a question, opens the class document and
// writes in it; the teacher answers the question (the hand goes down), and ends the lesson.
// Focus is never lost (it is never on <body> after an action).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tavlaAndChromium, signedIn, person, lessonWithPupils, expectHeading, focusedName, tabTo } from './harness.js';

const env = tavlaAndChromium({ before, after });

test('a pupil and a teacher do their main tasks with the keyboard alone', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  // Kari has a class; the lesson made here is ended, so she starts the next from her page.
  const { teacher: kariApi, lesson: first } = await lessonWithPupils(env.tavla, [], { className: '6A' });
  assert.equal((await kariApi.call('POST', `/api/lessons/${first.id}/end`, {})).status, 200);
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins });
  const k = kari.page;
  await k.goto(`${env.tavla.base}/teacher`);
  await expectHeading(k, 'Klasser og timer');
  await tabTo(k, '6A');
  await k.keyboard.press('Enter');
  await expectHeading(k, 'Klasse 6A');
  await tabTo(k, 'Start time');
  await k.keyboard.press('Enter');
  await expectHeading(k, 'Time: 6A');
  const code = (await k.locator('.join-code').first().innerText()).replace(/\s/g, '');

  // Ola joins with the code, on his own.
  const ola = await person(env.browser, { allowedOrigins });
  const o = ola.page;
  env.tavla.sensitive.add('Ola');
  await o.goto(`${env.tavla.base}/join`);
  await expectHeading(o, 'Bli med i timen');
  await tabTo(o, 'Kode');
  await o.keyboard.type(code);
  await tabTo(o, 'Navnet ditt');
  await o.keyboard.type('Ola');
  await o.keyboard.press('Enter');
  await expectHeading(o, 'Time i 6A');

  // A hand with a question.
  const question = 'Kan du forklare oppgave 2?';
  env.tavla.sensitive.add(question);
  await tabTo(o, 'Spørsmål til læreren (valgfritt)');
  await o.keyboard.type(question);
  await tabTo(o, 'Rekk opp hånda');
  await o.keyboard.press('Space');
  await o.getByRole('button', { name: 'Ta ned hånda' }).waitFor();
  assert.notEqual(await focusedName(o), '', 'focus stays on the page after raising the hand');

  // The class document, written in.
  await tabTo(o, 'Klassens dokument');
  await o.keyboard.press('Enter');
  await expectHeading(o, 'Klassens dokument');
  await o.getByText('Tilkoblet. Endringene lagres mens du skriver.').waitFor();
  await tabTo(o, 'Klassens dokument');
  assert.equal(await o.evaluate(() => document.activeElement?.classList.contains('ProseMirror')), true, 'in the editor');
  const line = 'Ola skriver med tastaturet.';
  env.tavla.sensitive.add(line);
  await o.keyboard.type(line);

  // Kari answers the hand: "Svar Ola", the reply, Enter. The hand goes down by itself.
  await tabTo(k, 'Svar Ola');
  await k.keyboard.press('Enter');
  assert.equal(await focusedName(k), 'Svar', 'focus is in the reply box');
  const answer = 'Se på eksempelet på side 12.';
  env.tavla.sensitive.add(answer);
  await k.keyboard.type(answer);
  await k.keyboard.press('Enter');
  await o.getByText(answer).first().waitFor();
  await o.getByRole('button', { name: 'Rekk opp hånda' }).waitFor({ timeout: 20000 });
  // Ola's line reached the class document Kari sees.
  await k.locator('.doc-preview').getByText(line).first().waitFor();

  // Kari ends the lesson (the confirmation is accepted by the harness's dialog handler).
  await tabTo(k, 'Avslutt timen');
  await k.keyboard.press('Enter');
  await o.getByText('Timen er slutt.').first().waitFor();

  for (const who of [kari, ola]) assert.deepEqual(who.problems, []);
  await Promise.all([kari.context.close(), ola.context.close()]);
});
