// Takes the screenshots in docs/screenshots/ (bokmål in nb/, Northern Sami in se/) from a real
// Tavla and headless Chromium: a lesson with a class of 8, a raised hand, an answer, groups and
// a pupil writing in a document. Not part of the test suite; run it after changing the pages:
//
//   cargo build -p tavla --bin tavla && node tests/js/screenshots.mjs
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTavla, launchChromium, boxCertificateHash, signedIn, person, lessonWithPupils } from './harness.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');
const ROSTER = ['Ada Berg', 'Bjørn Dahl', 'Cecilie Eide', 'David Foss', 'Emma Gran', 'Filip Holm', 'Guro Isaksen', 'Henrik Juul'];

const tavla = await startTavla();
const browser = await launchChromium({ trusting: await boxCertificateHash(tavla) });
try {
  const { teacher: kariApi, lesson, pupils: [olaApi, saraApi] } = await lessonWithPupils(tavla, ['Ola Nordmann', 'Sara Aslaksen'], { className: '7B', roster: ROSTER });
  const classId = (await kariApi.call('GET', `/api/lessons/${lesson.id}`)).body.class.id;
  await kariApi.call('POST', `/api/lessons/${lesson.id}/groups/random`, { size: 2, present_only: true });
  for (const lang of ['nb', 'se']) {
    const dir = join(out, lang);
    mkdirSync(dir, { recursive: true });
    const opts = { allowedOrigins: [tavla.base], viewport: { width: 1280, height: 800 } };
    const inLang = async (who) => {
      await who.context.addInitScript((chosen) => localStorage.setItem('tavla.lang', chosen), lang);
      return who;
    };
    const kari = await inLang(await signedIn(browser, tavla, kariApi, opts));
    const ola = await inLang(await signedIn(browser, tavla, olaApi, opts));
    const sara = await inLang(await signedIn(browser, tavla, saraApi, { ...opts, viewport: { width: 390, height: 844 } }));
    const nobody = await inLang(await person(browser, opts));
    const [k, o, s] = [kari.page, ola.page, sara.page];
    const shot = (page, name) => page.screenshot({ path: join(dir, `${name}.png`) });
    const settle = (page) => page.waitForLoadState('networkidle').catch(() => {});

    await nobody.page.goto(`${tavla.base}/join`);
    await settle(nobody.page);
    await shot(nobody.page, 'join');
    await k.goto(`${tavla.base}/teacher/class?id=${classId}`);
    await settle(k);
    await shot(k, 'teacher-class');

    await o.goto(`${tavla.base}/lesson`);
    await s.goto(`${tavla.base}/lesson`);
    await settle(o);
    await o.locator('#hand-question').fill(lang === 'nb' ? 'Hva betyr «fotosyntese»?' : 'Maid mearkkaša «fotosyntesa»?');
    // Raised in the first language's round already, it stays up for the second.
    if ((await o.locator('button.hand').getAttribute('aria-pressed')) !== 'true') await o.locator('button.hand').click();
    await k.goto(`${tavla.base}/teacher/lesson?id=${lesson.id}`);
    await k.locator('.hand-queue li').first().waitFor();
    await k.locator('.hand-queue li button').first().click();
    await k.keyboard.type(lang === 'nb' ? 'Se side 42 i boka.' : 'Geahča siiddu 42 girjjis.');
    await settle(k);
    await k.evaluate(() => window.scrollTo(0, 0));
    await shot(k, 'teacher-lesson');
    await shot(o, 'pupil-lesson');
    await o.locator('a[href^="/doc?"]').first().click();
    await o.locator('.ProseMirror').click();
    await o.keyboard.type(lang === 'nb' ? 'Fotosyntese: ' : 'Fotosyntesa: ');
    await settle(o);
    await shot(o, 'pupil-document');
    await s.locator('a[href^="/doc?"]').first().click();
    await s.locator('.ProseMirror').click();
    await s.keyboard.type(lang === 'nb' ? 'Planter lager sukker av lys, vann og CO2.' : 'Šattut ráhkadit sohkkara čuovggas, čázis ja CO2:s.');
    await settle(s);
    await shot(s, 'pupil-document-phone');

    const [projector] = await Promise.all([k.waitForEvent('popup'), k.locator('.bar-actions a').click()]);
    await projector.setViewportSize({ width: 1024, height: 768 });
    await projector.locator('img.join-qr').waitFor();
    await settle(projector);
    await shot(projector, 'projector');
    await projector.close();

    // Sara's settings (a guest: kept in her browser): larger text, high contrast, the
    // dyslexia-friendly font; then the lesson page as she sees it with them.
    await s.goto(`${tavla.base}/profile`);
    await s.locator('[data-size="large"]').click();
    for (const name of ['high_contrast', 'dyslexia_font']) await s.locator(`input[name="${name}"]`).check();
    await s.locator('.profile-form button[type="submit"]').click();
    await s.locator('.profile-status:not(:empty)').waitFor();
    await settle(s);
    await s.evaluate(() => window.scrollTo(0, 0));
    await shot(s, 'pupil-settings-phone');
    for (const who of [kari, ola, sara, nobody]) await who.context.close();
  }
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
  await tavla.stop();
}
