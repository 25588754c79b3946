// Every page in every language the box speaks (bokmål, nynorsk, Northern Sami, English): the
// page says which language it is in, shows no untranslated key, and axe-core finds nothing —
// for the teacher's pages and the pupil's (both also in high contrast with the largest text),
// a document, and the pages for people not signed in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tavlaAndChromium, signedIn, person, lessonWithPupils, checkAccessibility } from './harness.js';

const env = tavlaAndChromium({ before, after });
const i18n = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web-client', 'src', 'i18n');
const dictionary = (lang) => JSON.parse(readFileSync(join(i18n, `${lang}.json`), 'utf8'));
const LANGUAGES = ['nb', 'nn', 'se', 'en'];
const KEYS = Object.keys(dictionary('en')).filter((k) => k.includes('.'));

/** A browser context whose pages start in `lang` (as chosen in the language menu before). */
async function inLanguage(who, lang) {
  await who.context.addInitScript((chosen) => localStorage.setItem('tavla.lang', chosen), lang);
  return who;
}

/** Loads `path`, waits for its heading, and checks language, keys and accessibility. */
async function check(page, path, lang, heading) {
  await page.goto(`${env.tavla.base}${path}`);
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), lang, `${path} in ${lang}`);
  const text = await page.evaluate(() => document.body.innerText);
  const shownKeys = KEYS.filter((key) => text.includes(key));
  assert.deepEqual(shownKeys, [], `${path} in ${lang} shows untranslated keys`);
  await checkAccessibility(page, `${path} in ${lang}`);
}

test('every page in every language: its own lang, no untranslated key, no axe violation', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson, pupils: [olaApi] } = await lessonWithPupils(env.tavla, ['Ola'], { className: '5E' });
  const classId = (await kariApi.call('GET', `/api/lessons/${lesson.id}`)).body.class.id;
  for (const lang of LANGUAGES) {
    const t = dictionary(lang);
    const fill = (key, vars) => t[key].replace(/\{(\w+)\}/g, (_, name) => vars[name]);
    const kari = await inLanguage(await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins }), lang);
    const ola = await inLanguage(await signedIn(env.browser, env.tavla, olaApi, { allowedOrigins }), lang);
    const nobody = await inLanguage(await person(env.browser, { allowedOrigins }), lang);
    const k = kari.page;
    await check(k, '/teacher', lang, t['dashboard.title']);
    await check(k, `/teacher/class?id=${classId}`, lang, fill('class.title', { name: '5E' }));
    // Counts follow the language's plural rule: one pupil is not "1 pupils".
    await k.getByLabel(t['class.add_pupils']).fill(`Elev ${lang}`);
    await k.getByRole('button', { name: t['class.add_submit'], exact: true }).click();
    await k.getByText(fill(t['class.pupils_added#one'] ? 'class.pupils_added#one' : 'class.pupils_added', { count: 1 }), { exact: true }).first().waitFor({ state: 'attached' });
    // The pupil's VPN for home, with its QR code, is readable too.
    await k.getByRole('button', { name: fill('vpn.give_named', { name: `Elev ${lang}` }) }).click();
    await k.getByRole('heading', { name: fill('vpn.for', { name: `Elev ${lang}` }) }).waitFor();
    await checkAccessibility(k, `a pupil's VPN in ${lang}`);
    await check(k, `/teacher/lesson?id=${lesson.id}`, lang, fill('lesson.title', { name: '5E' }));
    await check(k, `/teacher/projector?id=${lesson.id}`, lang, t['projector.title']);
    await check(k, '/teacher/boxes', lang, t['paired.title']);
    // A pairing code, as a teacher reads it off to the other box.
    await k.getByRole('button', { name: t['paired.make_code'], exact: true }).click();
    await k.locator('.pairing-code').waitFor();
    await checkAccessibility(k, `a pairing code in ${lang}`);
    await check(k, `/doc?name=${encodeURIComponent(`lesson.${lesson.id}.class`)}`, lang, t['doc.kind_class']);
    // The teacher's pages as a teacher who chose high contrast and the largest text sees them.
    assert.equal((await kariApi.call('PUT', '/api/me/profile', { high_contrast: true, text_size: 'largest' })).status, 200);
    await check(k, '/teacher', lang, t['dashboard.title']);
    assert.ok(await k.evaluate(() => document.documentElement.classList.contains('high-contrast')));
    await check(k, `/teacher/class?id=${classId}`, lang, fill('class.title', { name: '5E' }));
    await check(k, `/teacher/lesson?id=${lesson.id}`, lang, fill('lesson.title', { name: '5E' }));
    await check(k, '/profile', lang, t['profile.title']);
    assert.equal((await kariApi.call('PUT', '/api/me/profile', {})).status, 200);
    await check(ola.page, '/lesson', lang, fill('pupil.title', { name: '5E' }));
    await check(ola.page, '/profile', lang, t['profile.title']);
    // The pupil's pages as a pupil who chose high contrast and the largest text sees them.
    const contrast = await inLanguage(await signedIn(env.browser, env.tavla, olaApi, { allowedOrigins }), lang);
    await contrast.context.addInitScript(() => localStorage.setItem('tavla.profile', JSON.stringify({ high_contrast: true, text_size: 'largest' })));
    await check(contrast.page, '/lesson', lang, fill('pupil.title', { name: '5E' }));
    assert.ok(await contrast.page.evaluate(() => document.documentElement.classList.contains('high-contrast')));
    await check(contrast.page, '/profile', lang, t['profile.title']);
    await check(contrast.page, `/doc?name=${encodeURIComponent(`lesson.${lesson.id}.class`)}`, lang, t['doc.kind_class']);
    for (const [path, key] of [['/join', 'join.title'], ['/login', 'login.title'], ['/install', 'install.title']]) {
      await check(nobody.page, path, lang, t[key]);
    }
    for (const who of [kari, ola, contrast, nobody]) {
      assert.deepEqual(who.problems, [], `no request left the box and no page failed (${lang})`);
      await who.context.close();
    }
  }
});
