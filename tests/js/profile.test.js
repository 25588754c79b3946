// A pupil's profile, set with the keyboard alone: larger text, high contrast, the
// dyslexia-friendly font (served by the box) and read aloud show at once, are kept on the box,
// and follow the pupil's card to another device; the teacher sees them on the class page.
// The pages hold in high contrast (axe-core, contrast included), at 320 CSS px and at 200 % zoom.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tavlaAndChromium, person, signedIn, lessonWithPupils, expectHeading, checkAccessibility, tabTo } from './harness.js';

const env = tavlaAndChromium({ before, after });

/** Whether the page scrolls sideways (the layout did not hold). */
const scrollsSideways = (page) => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);

test('a pupil sets their profile with the keyboard; it applies at once, follows their card, and the teacher sees it', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson } = await lessonWithPupils(env.tavla, [], { className: '4B', roster: ['Áile Sara', 'Nils'] });
  const classes = (await kariApi.call('GET', '/api/classes')).body.classes;
  const classId = classes.find((c) => c.name === '4B').id;
  const cards = (await kariApi.call('GET', `/api/classes/${classId}/cards`)).body.cards;
  const aileCard = cards.find((c) => c.name === 'Áile Sara').url.replace(/^https:\/\/[^/]+/, env.tavla.base);

  // Áile opens her card's link on a laptop and lands in the lesson.
  const laptop = await person(env.browser, { allowedOrigins });
  const a = laptop.page;
  await a.goto(aileCard);
  await a.getByRole('button', { name: 'Logg inn' }).click();
  await expectHeading(a, 'Time i 4B');

  // The keyboard walk: to her settings, larger text, high contrast, the font, read aloud, save.
  await tabTo(a, 'Mine innstillinger');
  await a.keyboard.press('Enter');
  await expectHeading(a, 'Mine innstillinger');
  await tabTo(a, 'Stor');
  await a.keyboard.press('Space');
  // Shown at once, before saving.
  await a.waitForFunction(() => document.documentElement.classList.contains('text-large'));
  for (const name of ['Høy kontrast', 'Skrift for dysleksi', 'Les opp']) {
    await tabTo(a, name);
    await a.keyboard.press('Space');
  }
  await tabTo(a, 'Lagre innstillingene');
  await a.keyboard.press('Enter');
  await a.getByText('Innstillingene er lagret.').waitFor();

  const looks = (page) => page.evaluate(async () => {
    await document.fonts.ready;
    const root = getComputedStyle(document.documentElement);
    return {
      classes: [...document.documentElement.classList].sort(),
      fontSize: parseFloat(root.fontSize),
      background: getComputedStyle(document.body).backgroundColor,
      fontLoaded: document.fonts.check('16px OpenDyslexic'),
      fontFamily: getComputedStyle(document.body).fontFamily,
    };
  });
  const applied = await looks(a);
  assert.deepEqual(applied.classes, ['dyslexia-font', 'high-contrast', 'read-aloud', 'text-large']);
  assert.ok(applied.fontSize >= 21, `larger text (${applied.fontSize}px)`);
  assert.match(applied.fontFamily, /OpenDyslexic/);
  assert.ok(applied.fontLoaded, 'the font came from the box');
  await checkAccessibility(a, 'the profile page in high contrast, larger text');

  // Back in the lesson and its class document, in high contrast, with read aloud offered.
  await tabTo(a, 'Timen');
  await a.keyboard.press('Enter');
  await expectHeading(a, 'Time i 4B');
  await checkAccessibility(a, 'the pupil\'s lesson page in high contrast');
  await a.goto(`${env.tavla.base}/doc?name=${encodeURIComponent(`lesson.${lesson.id}.class`)}`);
  await expectHeading(a, 'Klassens dokument');
  const readButton = a.getByRole('button', { name: 'Les opp dokumentet' });
  await readButton.waitFor();
  await checkAccessibility(a, 'a document in high contrast');

  // After a reload, and on another device with the same card, it is all there at once.
  await a.reload();
  await expectHeading(a, 'Klassens dokument');
  assert.deepEqual((await looks(a)).classes, applied.classes);
  const tablet = await person(env.browser, { allowedOrigins, viewport: { width: 800, height: 1000 } });
  await tablet.page.goto(aileCard);
  await tablet.page.getByRole('button', { name: 'Logg inn' }).click();
  await expectHeading(tablet.page, 'Time i 4B');
  assert.deepEqual((await looks(tablet.page)).classes, applied.classes, 'the profile followed the card');

  // The teacher sees what Áile chose; Nils chose nothing, so nothing is shown for him.
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins });
  await kari.page.goto(`${env.tavla.base}/teacher/class?id=${classId}`);
  await kari.page.getByText('Innstillinger: stor tekst, høy kontrast, dysleksiskrift, les opp').waitFor();
  assert.equal(await kari.page.locator('.profile-summary').count(), 1);

  for (const who of [laptop, tablet, kari]) assert.deepEqual(who.problems, []);
  await Promise.all([laptop, tablet, kari].map((who) => who.context.close()));
});

test('the pages hold at 320 CSS px and at 200 % zoom, with the largest text', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson, pupils: [olaApi] } = await lessonWithPupils(env.tavla, ['Ola'], { className: '4C' });
  // 320 CSS px is a 1280 px wide window at 400 %; 640 px is the same window at 200 %.
  for (const viewport of [{ width: 320, height: 640 }, { width: 640, height: 450 }]) {
    const ola = await signedIn(env.browser, env.tavla, olaApi, { allowedOrigins, viewport });
    const o = ola.page;
    const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins, viewport });
    const k = kari.page;
    // Ola (a guest) picks the largest text: kept in his browser.
    await o.goto(`${env.tavla.base}/profile`);
    await expectHeading(o, 'Mine innstillinger');
    await o.getByRole('button', { name: 'Størst' }).click();
    await o.getByRole('button', { name: 'Lagre innstillingene' }).click();
    await o.getByText('Innstillingene er lagret.').waitFor();
    const pages = [
      [o, '/profile', 'Mine innstillinger'],
      [o, '/lesson', 'Time i 4C'],
      [o, `/doc?name=${encodeURIComponent(`lesson.${lesson.id}.class`)}`, 'Klassens dokument'],
      [k, '/teacher', 'Klasser og timer'],
      [k, `/teacher/lesson?id=${lesson.id}`, 'Time: 4C'],
    ];
    for (const [page, path, title] of pages) {
      await page.goto(`${env.tavla.base}${path}`);
      await expectHeading(page, title);
      assert.equal(await scrollsSideways(page), false, `${path} at ${viewport.width} px scrolls sideways`);
    }
    assert.deepEqual([...ola.problems, ...kari.problems], []);
    await Promise.all([ola.context.close(), kari.context.close()]);
  }
});
