// Writing together in headless Chromium: the teacher and two pupils type into the class
// document and see each other's text, cursors and names; formatting and per-person undo work
// from the keyboard; the teacher's overview previews pupils' own documents; exports download
// with the text in them; locking the document turns a pupil's open editor read-only at once
// (and unlocking back); axe-core on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tavlaAndChromium, signedIn as harnessSignedIn, lessonWithPupils, checkAccessibility, screenshot, expectHeading } from './harness.js';

const env = tavlaAndChromium({ before, after });

const signedIn = (client, options) => harnessSignedIn(env.browser, env.tavla, client, options);

const editor = (page) => page.locator('.ProseMirror');

/** A real 2×2 PNG, so the browser decodes it. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVQI12P4z8DAwMDAxMDAwMDAAAAbNgMBOXYLIQAAAABJRU5ErkJggg==', 'base64');

/** Waits until the editor on `page` shows every one of `texts`. */
async function seesAll(page, texts) {
  for (const text of texts) await editor(page).getByText(text).first().waitFor();
}

async function download(page, linkName) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: linkName, exact: true }).click()]);
  return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) };
}

test('teacher and two pupils write together, see each other, export and lock the document', async () => {
  const allowedOrigins = [env.tavla.base];
  const { teacher: kariApi, lesson, pupils: [olaApi, saraApi] } = await lessonWithPupils(env.tavla, ['Ola', 'Sara']);
  // What people write never reaches the box's log (checked when Tavla stops).
  for (const text of ['Elgen i Norge', 'Ola: elgen er stor.', 'Sara: den spiser blader.']) env.tavla.sensitive.add(text);
  const kari = await signedIn(kariApi, { allowedOrigins });
  const ola = await signedIn(olaApi, { allowedOrigins, viewport: { width: 1024, height: 768 } });
  const sara = await signedIn(saraApi, { allowedOrigins, viewport: { width: 360, height: 740 } });
  const [k, o, s] = [kari.page, ola.page, sara.page];

  // The teacher's lesson page lists the lesson's documents.
  await k.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  await expectHeading(k, 'Time: 7B');
  for (const title of ['Klassens dokument', 'Mine notater (bare for meg)', 'Dokumentet til Ola', 'Dokumentet til Sara']) {
    await k.getByRole('link', { name: title, exact: true }).waitFor();
  }
  await checkAccessibility(k, 'lesson with documents');
  await k.getByRole('link', { name: 'Klassens dokument', exact: true }).click();
  await expectHeading(k, 'Klassens dokument');
  await k.getByText('Tilkoblet. Endringene lagres mens du skriver.').waitFor();

  // Pupils find the class document on their lesson page.
  for (const page of [o, s]) {
    await page.goto(`${env.tavla.base}/lesson`);
    await expectHeading(page, 'Time i 7B');
    await page.getByRole('link', { name: 'Mitt dokument', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Klassens dokument', exact: true }).click();
    await expectHeading(page, 'Klassens dokument');
  }

  // The teacher writes a heading with the keyboard only: Alt+F10 to the toolbar, arrows, Enter.
  await editor(k).click();
  await k.keyboard.press('Alt+F10');
  assert.equal(await k.evaluate(() => document.activeElement.textContent), 'Vanlig tekst');
  await k.keyboard.press('ArrowRight');
  await k.keyboard.press('Enter');
  await k.keyboard.type('Elgen i Norge');
  await k.keyboard.press('Enter');
  await editor(o).locator('h2', { hasText: 'Elgen i Norge' }).waitFor();
  // The new paragraph after the heading comes in its own update; typing before it arrives
  // would write into the heading.
  await editor(o).locator('h2 + p').waitFor();

  // Each pupil writes a line of their own at the end.
  await editor(o).click();
  await o.keyboard.press('Control+End');
  await o.keyboard.type('Ola: elgen er stor.');
  await editor(s).click();
  await s.keyboard.press('Control+End');
  await s.keyboard.press('Enter');
  await s.keyboard.press('Control+b');
  await s.keyboard.type('Sara: den spiser blader.');
  const everything = ['Elgen i Norge', 'Ola: elgen er stor.', 'Sara: den spiser blader.'];
  for (const page of [k, o, s]) await seesAll(page, everything);
  await editor(k).locator('strong', { hasText: 'Sara: den spiser blader.' }).waitFor();

  // Everyone sees who is here, and where the others' cursors are, with their names.
  await k.locator('.peers').getByText('Kari (deg)').waitFor();
  // Three people, three different colours.
  const colours = await k.locator('.peers li').evaluateAll((items) => items.map((li) => li.className));
  assert.equal(new Set(colours).size, 3, `distinct colours: ${colours}`);
  for (const name of ['Ola', 'Sara']) {
    await k.locator('.peers').getByText(name, { exact: true }).waitFor();
    await k.locator('.peer-caret .peer-flag', { hasText: name }).waitFor({ state: 'attached' });
  }
  await o.locator('.peer-caret .peer-flag', { hasText: 'Kari' }).waitFor({ state: 'attached' });
  // A name flag goes once its cursor rests, so it does not cover the line above.
  await o.locator('.peer-caret .peer-flag', { hasText: 'Kari' }).waitFor({ state: 'hidden' });
  await checkAccessibility(k, 'class document (teacher)');
  await checkAccessibility(s, 'class document (pupil, phone)');
  await screenshot(k, 'doc-teacher');
  await screenshot(s, 'doc-pupil-phone');

  // Undo is per person: Ola's undo takes back his words only.
  await editor(o).click();
  await o.keyboard.press('Control+z');
  await editor(k).getByText('Ola: elgen er stor.').waitFor({ state: 'detached' });
  await seesAll(k, ['Elgen i Norge', 'Sara: den spiser blader.']);
  await o.keyboard.press('Control+Shift+z');
  await seesAll(k, everything);

  // Exports download with the text in them.
  const md = await download(k, 'Markdown');
  assert.equal(md.name, '7B.md');
  assert.match(md.bytes.toString(), /^## Elgen i Norge\n/);
  assert.match(md.bytes.toString(), /\*\*Sara: den spiser blader\.\*\*/);
  const html = await download(k, 'Nettside (HTML)');
  assert.match(html.bytes.toString(), /<h2>Elgen i Norge<\/h2>/);
  assert.match(html.bytes.toString(), /<html lang="nb">/);
  const txt = await download(s, 'Ren tekst');
  // Undo and redo may put Ola's paragraph back before or after Sara's; both are paragraphs.
  assert.match(txt.bytes.toString(), /^Elgen i Norge\n\n/);
  for (const line of ['Ola: elgen er stor.', 'Sara: den spiser blader.']) {
    assert.ok(txt.bytes.toString().includes(`\n\n${line}\n`), `${line} in ${txt.bytes}`);
  }

  // Ola writes in his own document; the teacher's overview shows it without opening it.
  await o.getByRole('link', { name: 'Tilbake' }).click();
  await o.getByRole('link', { name: 'Mitt dokument', exact: true }).click();
  await expectHeading(o, 'Mitt dokument');
  await editor(o).click();
  await o.keyboard.type('Min egen tekst om elg.');
  await k.getByRole('link', { name: 'Tilbake' }).click();
  await expectHeading(k, 'Time: 7B');
  await k.locator('[data-doc] .doc-preview', { hasText: 'Min egen tekst om elg.' }).waitFor();
  // Pupils writing in a document count as present in the lesson.
  await k.getByText('2 av 2 tilkoblet').waitFor();
  await screenshot(k, 'lesson-documents');
  const zip = await download(k, 'Last ned alle dokumentene (zip)');
  assert.match(zip.name, /^7B-\d{4}-\d{2}-\d{2}\.zip$/);
  assert.equal(zip.bytes.subarray(0, 2).toString(), 'PK');

  // The teacher locks the class document: Sara's open editor turns read-only at once, without
  // her typing, and says so; unlocking gives it back.
  await k.getByLabel('Lås Klassens dokument for elevene').check();
  await s.getByText('Læreren har låst dokumentet. Du kan lese det, men ikke skrive.').waitFor();
  await editor(s).and(s.locator('[contenteditable="false"]')).waitFor();
  await seesAll(s, everything);
  await checkAccessibility(s, 'locked document (pupil)');
  await k.getByLabel('Lås Klassens dokument for elevene').uncheck();
  await s.getByText('Læreren har åpnet dokumentet igjen. Du kan skrive.').waitFor();
  await editor(s).and(s.locator('[contenteditable="true"]')).waitFor();

  for (const [label, who] of Object.entries({ kari, ola, sara })) {
    assert.deepEqual(who.problems, [], `${label}: no console errors, nothing fetched from outside the box`);
    await who.context.close();
  }
});

test('the teacher saves a version, hands the document out to each pupil and restores the version as a copy', async () => {
  const allowedOrigins = [env.tavla.base];
  const { teacher: kariApi, lesson, pupils: [olaApi] } = await lessonWithPupils(env.tavla, ['Ola'], { className: '7C' });
  const kari = await signedIn(kariApi, { allowedOrigins });
  const ola = await signedIn(olaApi, { allowedOrigins });
  const [k, o] = [kari.page, ola.page];
  await o.goto(`${env.tavla.base}/lesson`);
  await expectHeading(o, 'Time i 7C');
  await o.getByText('Koblet til timen.').waitFor();

  await k.goto(`${env.tavla.base}/doc?name=lesson.${lesson.id}.notes&lesson=${lesson.id}`);
  await expectHeading(k, 'Mine notater (bare for meg)');
  await editor(k).click();
  await k.keyboard.type('Oppgave: skriv tre setninger om elg.');
  // A picture from the toolbar; its alt text is asked for.
  kari.answers.push('En elg i skogen');
  const [chooser] = await Promise.all([
    k.waitForEvent('filechooser'),
    k.getByRole('toolbar').getByRole('button', { name: 'Bilde', exact: true }).click(),
  ]);
  await chooser.setFiles({ name: 'elg.png', mimeType: 'image/png', buffer: PNG });
  await editor(k).getByRole('img', { name: 'En elg i skogen' }).waitFor();
  await k.getByLabel('Navn på versjonen').fill('Før timen');
  await k.getByRole('button', { name: 'Lagre versjon' }).click();
  await k.getByText('Versjonen «Før timen» er lagret.').waitFor();
  await k.locator('.versions li', { hasText: 'Før timen' }).waitFor();
  await editor(k).click();
  await k.keyboard.press('Control+End');
  await k.keyboard.type(' Frist fredag.');

  // Handing out: every pupil gets their own copy; Ola's lesson page gets the link at once.
  await k.getByLabel('Tittel på kopiene').fill('Elgoppgaven');
  await k.getByRole('button', { name: 'Til hver elev' }).click();
  await k.getByText('Delt ut til 1 elev.').waitFor();
  await o.getByRole('link', { name: 'Elgoppgaven', exact: true }).click();
  await expectHeading(o, 'Elgoppgaven');
  await seesAll(o, ['Oppgave: skriv tre setninger om elg. Frist fredag.']);
  // The teacher's picture comes with the copy and loads for the pupil.
  const picture = editor(o).getByRole('img', { name: 'En elg i skogen' });
  await picture.waitFor();
  await o.waitForFunction((img) => img.complete && img.naturalWidth > 0, await picture.elementHandle());
  await editor(o).click();
  await o.keyboard.press('Control+End');
  await o.keyboard.type(' Elgen er stor.');
  await checkAccessibility(o, 'handed-out copy (pupil)');

  // Restoring the saved version makes a copy; the notes keep what was written since.
  await k.getByRole('button', { name: 'Gjenopprett Før timen som kopi' }).click();
  await k.getByText('Kopien er laget. Dokumentet selv er uendret.').waitFor();
  await checkAccessibility(k, 'document with versions and hand-out (teacher)');
  await k.getByRole('link', { name: 'Åpne kopien' }).click();
  await expectHeading(k, 'Før timen (kopi)');
  await seesAll(k, ['Oppgave: skriv tre setninger om elg.']);
  assert.equal(await editor(k).getByText('Frist fredag').count(), 0);

  // The overview lists Ola's copy under his name with his text in the preview.
  await k.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  await k.getByRole('link', { name: 'Elgoppgaven – Ola', exact: true }).waitFor();
  await k.locator('[data-doc] .doc-preview', { hasText: 'Elgen er stor.' }).waitFor();

  for (const [label, who] of Object.entries({ kari, ola })) {
    assert.deepEqual(who.problems, [], `${label}: no console errors, nothing fetched from outside the box`);
    await who.context.close();
  }
});

test('when the teacher removes a pupil and ends the lesson, open pages say so in plain words and stop', async () => {
  const allowedOrigins = [env.tavla.base];
  const { teacher: kariApi, lesson, pupils: [olaApi, saraApi] } = await lessonWithPupils(env.tavla, ['Ola', 'Sara'], { className: '7E' });
  const ola = await signedIn(olaApi, { allowedOrigins });
  const sara = await signedIn(saraApi, { allowedOrigins, viewport: { width: 390, height: 844 } });
  const [o, s] = [ola.page, sara.page];
  await o.goto(`${env.tavla.base}/lesson`);
  await o.getByRole('link', { name: 'Klassens dokument', exact: true }).click();
  await o.getByText('Tilkoblet. Endringene lagres mens du skriver.').waitFor();
  await s.goto(`${env.tavla.base}/lesson`);
  await expectHeading(s, 'Time i 7E');
  await s.getByText('Koblet til timen.').waitFor();
  assert.ok(await s.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling on a 390 px phone');
  assert.equal(await s.getByText(/^(null|undefined)$/).count(), 0, 'no stray null or undefined');

  // Ola is removed while he writes: his editor stops and says why.
  const { body: me } = await olaApi.call('GET', '/api/me');
  assert.equal((await kariApi.call('DELETE', `/api/lessons/${lesson.id}/participants/${me.pupil.id}`)).status, 200);
  await o.getByRole('alert').getByText('Læreren har fjernet deg fra timen.').first().waitFor();
  await o.getByRole('toolbar').waitFor({ state: 'hidden' });
  assert.equal(await o.getByText('Tilkoblet. Endringene lagres mens du skriver.').count(), 0, 'no longer claims to save');
  await checkAccessibility(o, 'document after the pupil was removed');

  // The lesson ends: Sara's lesson page says so once and its controls stop.
  assert.equal((await kariApi.call('POST', `/api/lessons/${lesson.id}/end`, {})).status, 200);
  await s.getByText('Timen er slutt.').waitFor();
  assert.equal(await s.getByRole('button', { name: 'Rekk opp hånda' }).isDisabled(), true);
  await screenshot(s, 'pupil-lesson-ended');
  await checkAccessibility(s, 'pupil page after the lesson ended');
  assert.deepEqual([...ola.problems, ...sara.problems], []);
});
