// A pupil on the class list at a PC without a camera: she types the lesson's code and her name,
// is asked whether she is the pupil on the class list, types the code printed on her card, and
// is in the lesson as herself — the teacher sees her once, from the class list, not a guest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tavlaAndChromium, signedIn, lessonWithPupils, person, expectHeading, checkAccessibility } from './harness.js';

const env = tavlaAndChromium({ before, after });

test('the code printed on a card signs its pupil in where there is no camera', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson } = await lessonWithPupils(env.tavla, [], { className: '5A', roster: ['Emma Hansen', 'Jonas Berg'] });
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins });
  const k = kari.page;
  const sheet = (await kariApi.call('GET', `/api/classes/${lesson.class.id}/cards`)).body;
  const emma = sheet.cards.find((c) => c.name === 'Emma Hansen');
  assert.match(emma.code, /^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
  // The printed card shows it.
  await k.goto(`${env.tavla.base}/teacher/cards?class=${lesson.class.id}`);
  await k.getByText(`Kode: ${emma.code}`).waitFor();
  await checkAccessibility(k, 'login cards with their codes');

  const pc = await person(env.browser, { allowedOrigins });
  const p = pc.page;
  await p.goto(`${env.tavla.base}/join`);
  await expectHeading(p, 'Bli med i timen');
  await p.getByLabel('Kode').fill(lesson.code);
  await p.getByLabel('Navnet ditt').fill('Emma Hansen');
  await p.getByRole('button', { name: 'Bli med' }).click();
  await p.getByText('Er du Emma Hansen fra klasselista?', { exact: false }).waitFor();
  // Typed in small letters without the dash, and with Enter.
  await p.getByLabel('Koden på kortet ditt').fill(emma.code.replace('-', '').toLowerCase());
  await p.getByLabel('Koden på kortet ditt').press('Enter');
  await expectHeading(p, 'Time i 5A');
  await p.getByText('Koblet til timen.').waitFor();

  // The teacher sees Emma from the class list, connected: no guest twin.
  await k.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  const row = k.locator('.presence li', { hasText: 'Emma Hansen' });
  await row.waitFor();
  assert.doesNotMatch(await row.textContent(), /gjest/);
  await k.getByText('1 av 2 tilkoblet').waitFor();
  assert.deepEqual(pc.problems, []);
});
