// The flow a teacher and two pupils follow on the first day: set up, make a class, start a
// lesson, one pupil joins by code (keyboard only, on a phone), one by login card (on a tablet),
// the teacher sees both present; nynorsk works and is remembered; every page passes axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tavlaAndChromium, person, checkAccessibility, screenshot, expectHeading } from './harness.js';

const env = tavlaAndChromium({ before, after });

test('a teacher sets up, starts a lesson, and sees two pupils arrive', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.httpBase];
  const teacher = await person(env.browser, { allowedOrigins });
  const t = teacher.page;

  await t.goto(env.tavla.base + '/');
  await expectHeading(t, 'Tavla er ikke satt opp ennå');
  await checkAccessibility(t, 'not set up');

  await t.goto(env.tavla.setupUrl);
  await expectHeading(t, 'Lag en lærerkonto');
  await checkAccessibility(t, 'setup');
  await t.getByLabel('Navnet ditt').fill('Kari Nordmann');
  await t.getByLabel('Passord').fill('riktig hest batteri');
  await t.getByRole('button', { name: 'Lag konto' }).click();
  await expectHeading(t, 'Klasser og timer');
  await checkAccessibility(t, 'dashboard');

  await t.getByLabel('Navn på klassen').fill('7B');
  await t.getByLabel('Elever').fill('Ada Lovelace\nBjørn Ødegård');
  await t.getByRole('button', { name: 'Lag klasse' }).click();
  await expectHeading(t, 'Klasse 7B');
  await checkAccessibility(t, 'class');
  await screenshot(t, 'teacher-class');

  await t.getByRole('link', { name: 'Skriv ut innloggingskort' }).click();
  await expectHeading(t, 'Innloggingskort for 7B');
  await t.locator('.login-card img').first().waitFor();
  await checkAccessibility(t, 'login cards');
  await screenshot(t, 'teacher-cards');
  const classId = new URL(t.url()).searchParams.get('class');
  // What scanning Ada's card with a camera would open.
  const adaCard = await t.evaluate(async (id) => {
    const sheet = await (await fetch(`/api/classes/${id}/cards`)).json();
    return sheet.cards.find((c) => c.name === 'Ada Lovelace').url;
  }, classId);
  await t.goBack();
  await expectHeading(t, 'Klasse 7B');

  await t.getByRole('button', { name: 'Start time' }).click();
  await expectHeading(t, 'Time: 7B');
  const code = (await t.locator('.join-code').textContent()).trim();
  assert.match(code, /^[ACDEFGHJKMNPQRTUVWXY34679]{6}$/);
  await t.getByText('0 av 2 tilkoblet').waitFor();
  await checkAccessibility(t, 'lesson (teacher)');

  // The projector opens in a window of its own; the lesson page stays.
  const [projector] = await Promise.all([
    t.waitForEvent('popup'),
    t.getByRole('link', { name: 'Vis på prosjektoren' }).click(),
  ]);
  await expectHeading(projector, 'Bli med i timen');
  await projector.locator('img.join-qr').waitFor();
  assert.equal(await projector.locator('.join-code').textContent(), code);
  await checkAccessibility(projector, 'projector');
  await screenshot(projector, 'teacher-projector');
  // The window may close before Playwright hears the click end: closing is what is awaited.
  await Promise.all([
    projector.waitForEvent('close'),
    projector.getByRole('button', { name: 'Lukk projektorvinduet' }).click().catch((error) => {
      if (!/closed/.test(error.message)) throw error;
    }),
  ]);
  await t.getByText('0 av 2 tilkoblet').waitFor();

  // Pupil 1: a phone, keyboard only. A wrong code first: a clear message in bokmål.
  const guest = await person(env.browser, { viewport: { width: 360, height: 640 }, allowedOrigins });
  const g = guest.page;
  await g.goto(env.tavla.base + '/join');
  await expectHeading(g, 'Bli med i timen');
  await checkAccessibility(g, 'join');
  // The router puts focus on the page heading; the next stop is the code field.
  assert.equal(await g.evaluate(() => document.activeElement.tagName), 'H1');
  await g.keyboard.press('Tab');
  assert.equal(await g.evaluate(() => document.activeElement.name), 'code');
  await g.keyboard.type('QQQQQQ');
  await g.keyboard.press('Tab');
  await g.keyboard.type('Gjest Gjestesen');
  await g.keyboard.press('Enter');
  await g.getByText('Ingen time har den koden. Sjekk koden på tavla.').waitFor();
  assert.equal(await g.getByLabel('Kode').getAttribute('aria-invalid'), 'true');
  await g.getByLabel('Kode').fill('');
  await g.getByLabel('Kode').focus();
  await g.keyboard.type(code.toLowerCase());
  // A first name only one pupil on the class list has: the page asks whether it is her, and
  // offers her card; this guest says no and joins as a guest (the teacher sees no twin of Ada).
  await g.getByLabel('Navnet ditt').fill('ada');
  await g.keyboard.press('Enter');
  await g.getByText('Er du Ada Lovelace fra klasselista?', { exact: false }).waitFor();
  // She would type the code from her card; a code that is not Ada's card's is refused.
  await g.getByLabel('Koden på kortet ditt').fill('ABCD-2345');
  await g.getByRole('button', { name: 'Logg inn med koden' }).click();
  await g.getByText('Koden stemmer ikke med kortet til Ada Lovelace.', { exact: false }).waitFor();
  assert.equal(await g.getByLabel('Koden på kortet ditt').getAttribute('aria-invalid'), 'true');
  await checkAccessibility(g, 'join: is that you on the class list?');
  await g.getByLabel('Navnet ditt').fill('Gjest Gjestesen');
  await g.getByRole('button', { name: 'Nei, det er ikke meg – bli med som gjest' }).click();
  await expectHeading(g, 'Time i 7B');
  await g.getByText('Koblet til timen.').waitFor();
  await checkAccessibility(g, 'lesson (pupil, phone)');
  await screenshot(g, 'pupil-phone');

  // Pupil 2: a tablet, scanning her card, following from home.
  const ada = await person(env.browser, { viewport: { width: 1024, height: 768 }, allowedOrigins });
  const a = ada.page;
  await a.goto(adaCard);
  await expectHeading(a, 'Logg inn med kortet ditt');
  await checkAccessibility(a, 'card sign-in');
  await a.getByLabel('Jeg er hjemme (følger timen hjemmefra)').check();
  await a.getByRole('button', { name: 'Logg inn' }).click();
  await expectHeading(a, 'Time i 7B');
  await a.getByText('Du følger timen hjemmefra.').waitFor();
  assert.ok(!a.url().includes('#'), 'the card secret does not stay in the address bar');
  await screenshot(a, 'pupil-tablet');

  // The teacher sees both, live: Ada marked at home, the guest marked as a guest.
  await t.getByText('2 av 3 tilkoblet').waitFor();
  const adaRow = t.locator('.presence li', { hasText: 'Ada Lovelace' });
  assert.match(await adaRow.textContent(), /tilkoblet.*hjemme/);
  const guestRow = t.locator('.presence li', { hasText: 'Gjest Gjestesen' });
  assert.match(await guestRow.textContent(), /gjest/);
  assert.match(await t.locator('.presence li', { hasText: 'Bjørn Ødegård' }).textContent(), /ikke tilkoblet/);
  await checkAccessibility(t, 'lesson with pupils');
  await screenshot(t, 'teacher-lesson');

  // Nynorsk, remembered after a reload.
  await t.getByLabel('Språk').selectOption('nn');
  await t.getByRole('heading', { name: 'Kven er her' }).waitFor();
  await t.reload();
  await t.getByText('2 av 3 tilkopla').waitFor();
  assert.equal(await t.evaluate(() => document.documentElement.lang), 'nn');
  await checkAccessibility(t, 'lesson in nynorsk');
  await screenshot(t, 'teacher-lesson-nn');

  // Ending the lesson tells the pupils.
  await t.getByRole('button', { name: 'Avslutt timen' }).click();
  await expectHeading(t, 'Klassar og timar');
  await g.getByText('Timen er slutt.').waitFor();
  await a.getByText('Timen er slutt.').waitFor();
  await checkAccessibility(g, 'lesson ended (pupil)');

  for (const who of [teacher, guest, ada]) {
    assert.deepEqual(who.problems, [], 'no console errors, nothing fetched from outside the box');
    await who.context.close();
  }
});

test('the login and certificate pages work and pass axe-core', async () => {
  const visitor = await person(env.browser, { allowedOrigins: [env.tavla.base, env.tavla.httpBase] });
  const p = visitor.page;
  await p.goto(env.tavla.base + '/login');
  await expectHeading(p, 'Innlogging for lærere');
  await checkAccessibility(p, 'login');
  await p.getByLabel('Navn').fill('Kari Nordmann');
  await p.getByLabel('Passord').fill('feil passord');
  await p.getByRole('button', { name: 'Logg inn' }).click();
  await p.getByText('Feil navn eller passord.').waitFor();

  // Over plain HTTP: the page a device opens before it trusts the box.
  await p.goto(env.tavla.httpBase + '/install');
  await expectHeading(p, 'Installer boksens sertifikat');
  await p.locator('.fingerprint code').waitFor();
  await checkAccessibility(p, 'install (http)');
  await p.getByLabel('Språk').selectOption('en');
  await expectHeading(p, "Install the box's certificate");
  await screenshot(p, 'install-en');
  assert.deepEqual(visitor.problems, []);
  await visitor.context.close();
});
