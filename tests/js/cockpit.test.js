// The teacher's lesson page as a cockpit, in headless Chromium at 1280×800 with a class of 30:
// the whole page fits two screens, the raised hands are in the first one beside the work,
// "end lesson" is at the top, the keyboard shortcuts reach the hands and the reply box, and
// the projector opens in its own window without the menu, whole at 1024×768. axe-core on
// the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tavlaAndChromium, signedIn, lessonWithPupils, checkAccessibility, screenshot, expectHeading } from './harness.js';

const env = tavlaAndChromium({ before, after });

const FIRST = ['Ada', 'Bjørn', 'Cecilie', 'David', 'Emma', 'Filip', 'Guro', 'Henrik', 'Ida', 'Jonas'];
const LAST = ['Hansen', 'Olsen', 'Berg'];
const CLASS_OF_30 = LAST.flatMap((last) => FIRST.map((first) => `${first} ${last}`));

test('a class of 30: people and hands in view, the page two screens tall, the projector in its own window', async () => {
  const allowedOrigins = [env.tavla.base];
  const { teacher: kariApi, lesson, pupils: [olaApi] } = await lessonWithPupils(env.tavla, ['Ola Gjest'], { className: '7C', roster: CLASS_OF_30 });
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins, viewport: { width: 1280, height: 800 } });
  const ola = await signedIn(env.browser, env.tavla, olaApi, { allowedOrigins });
  const [k, o] = [kari.page, ola.page];

  await k.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  await expectHeading(k, 'Time: 7C');
  await o.goto(`${env.tavla.base}/lesson`);
  await o.getByText('Koblet til timen.').waitFor();
  await k.getByText('1 av 31 tilkoblet').waitFor();

  await o.getByLabel('Spørsmål til læreren (valgfritt)').fill('Hvor er oppgave 4?');
  await o.getByRole('button', { name: 'Rekk opp hånda' }).click();
  const hand = k.locator('.hand-queue li', { hasText: 'Ola Gjest' });
  await hand.waitFor();

  // At the top of the page, without scrolling: the hand with its question, and "end lesson".
  const inFirstScreen = async (locator) => {
    const box = await locator.boundingBox();
    return box !== null && box.y >= 0 && box.y + box.height <= 800;
  };
  assert.equal(await k.evaluate(() => window.scrollY), 0);
  assert.ok(await inFirstScreen(hand), 'the raised hand is in the first screen');
  assert.ok(await inFirstScreen(k.getByRole('button', { name: 'Avslutt timen' })), '"end lesson" is in the first screen');
  // The people and the work side by side, not one long column.
  const people = await k.locator('.cockpit-people').boundingBox();
  const work = await k.locator('.cockpit-work').boundingBox();
  assert.ok(people.x + people.width <= work.x, 'the people beside the work');
  const height = await k.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(height <= 2 * 800, `the page is ${height} px tall with 30 pupils (at most two screens)`);
  // Nothing wider than the window.
  assert.ok(await k.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling');

  // Keyboard: Alt+Shift+H to the hands, "Svar" with Enter, and the reply box has focus.
  await k.keyboard.press('Alt+Shift+H');
  assert.equal(await k.evaluate(() => document.activeElement?.id), 'hands-h');
  await k.getByRole('button', { name: 'Svar Ola Gjest' }).focus();
  await k.keyboard.press('Enter');
  assert.ok(await k.getByLabel('Svar', { exact: true }).evaluate((el) => el === document.activeElement), 'focus is in the reply box');
  await k.keyboard.press('Alt+Shift+E');
  assert.equal(await k.evaluate(() => document.activeElement?.id), 'present-h');
  await k.keyboard.press('Alt+Shift+S');
  assert.ok(await k.getByLabel('Svar', { exact: true }).evaluate((el) => el === document.activeElement), 'Alt+Shift+S is the reply box');
  await k.getByText('Hurtigtaster').click();
  await k.getByText('Alt+Shift+H').waitFor();
  await checkAccessibility(k, 'teacher cockpit with 30 pupils');
  await screenshot(k, 'teacher-cockpit');

  // Groups by hand: pick and place from the keyboard, or drag; unplaced pupils are named;
  // nothing is sent before "save".
  await k.getByRole('tab', { name: 'Grupper' }).click();
  assert.equal(await k.getByRole('button', { name: 'Avslutt gruppearbeidet' }).isVisible(), false, 'no "end group work" without groups');
  await k.getByText('Lag grupper for hånd').click();
  const board = k.locator('.group-board');
  const group = (n) => board.getByRole('region', { name: `Gruppe ${n}` });
  for (const name of ['Ada Hansen', 'Bjørn Hansen']) {
    await board.getByRole('button', { name: `${name}, ikke tilkoblet` }).focus();
    await k.keyboard.press('Enter');
    await group(1).getByRole('button', { name: `Flytt ${name} hit` }).click();
  }
  await board.locator('li', { has: k.getByRole('button', { name: 'Ola Gjest, tilkoblet' }) }).locator('.drag-handle').dragTo(group(2));
  await group(2).getByRole('button', { name: 'Ola Gjest, tilkoblet' }).waitFor();
  await k.getByText('28 elever er ikke i noen gruppe ennå.').waitFor();
  await k.getByRole('button', { name: 'Ny gruppe' }).click();
  await group(3).waitFor();
  await checkAccessibility(k, 'groups by hand');
  await screenshot(k, 'teacher-groups-by-hand');
  await k.getByRole('button', { name: 'Lagre gruppene' }).click();
  await k.locator('.groups').getByText('Ada Hansen (ikke tilkoblet), Bjørn Hansen (ikke tilkoblet)').waitFor();
  await k.locator('.groups li', { hasText: 'Gruppe 2' }).getByText('Ola Gjest', { exact: true }).waitFor();
  await o.getByRole('heading', { name: 'Gruppa mi' }).waitFor();
  await k.getByRole('button', { name: 'Avslutt gruppearbeidet' }).waitFor();
  // A timer: the pupils are told until when.
  await k.getByLabel('Minutter med gruppearbeid').fill('20');
  await k.getByRole('button', { name: 'Start tidtakeren' }).click();
  await o.locator('.announcement').getByText(/^Gruppearbeid til klokka \d\d[:.]\d\d\.$/).waitFor();
  await k.getByText(/^Tidtakeren går til klokka/).waitFor();

  // The projector: its own window, no menu, the code and the QR whole at 1024×768.
  const [projector] = await Promise.all([
    k.waitForEvent('popup'),
    k.getByRole('link', { name: 'Vis på prosjektoren' }).click(),
  ]);
  await projector.setViewportSize({ width: 1024, height: 768 });
  await expectHeading(projector, 'Bli med i timen');
  assert.equal(await projector.locator('nav').isVisible(), false, 'no menu');
  assert.ok(!(await projector.getByRole('button', { name: 'Logg ut' }).isVisible().catch(() => false)), 'no "log out"');
  const qr = projector.locator('.join-qr');
  await qr.waitFor();
  await projector.waitForFunction(() => [...document.querySelectorAll('.join-qr')].every((img) => img.complete && img.naturalWidth > 0));
  for (const box of [await qr.boundingBox(), await projector.locator('.join-code').boundingBox()]) {
    assert.ok(box.y >= 0 && box.y + box.height <= 768 && box.x >= 0 && box.x + box.width <= 1024, `whole on the screen: ${JSON.stringify(box)}`);
  }
  assert.ok(await projector.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight), 'the projector page needs no scrolling');
  await checkAccessibility(projector, 'projector window');
  await screenshot(projector, 'projector-1024x768');
  // The lesson page stayed where it was.
  await expectHeading(k, 'Time: 7C');

  for (const who of [kari, ola]) assert.deepEqual(who.problems, []);
});
