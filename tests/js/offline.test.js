// A pupil on a flaky school Wi-Fi: the box goes away (stopped, as a power cut or a restart
// would), the pupil keeps writing, and nothing is lost. The document is kept in the browser
// (IndexedDB) and merges when the box is back, also when the tab was closed meanwhile; a
// question asked while the box was away reaches the teacher exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tavlaAndChromium, signedIn, lessonWithPupils, expectHeading, checkAccessibility } from './harness.js';

const env = tavlaAndChromium({ before, after });
const editor = (page) => page.locator('.ProseMirror');

/** How many updates the page's browser keeps for document `name` (y-indexeddb's store). */
const keptUpdates = (page, name) => page.evaluate((dbName) => new Promise((resolve, reject) => {
  const open = indexedDB.open(dbName);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const count = open.result.transaction('updates').objectStore('updates').count();
    count.onsuccess = () => { open.result.close(); resolve(count.result); };
    count.onerror = () => reject(count.error);
  };
}), `tavla-doc:${name}`);

async function openClassDoc(page, lesson) {
  await page.goto(`${env.tavla.base}/doc?name=${encodeURIComponent(`lesson.${lesson.id}.class`)}`);
  await expectHeading(page, 'Klassens dokument');
  await page.getByText('Tilkoblet. Endringene lagres mens du skriver.').waitFor();
}

test('the box goes away and comes back: what a pupil wrote meanwhile, even in a closed tab, reaches everyone; an offline question arrives once', async () => {
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const { teacher: kariApi, lesson, pupils: [olaApi, saraApi] } = await lessonWithPupils(env.tavla, ['Ola', 'Sara'], { className: '6D' });
  const texts = ['Ola skrev før.', 'Ola skrev mens boksen var borte.', 'Ola skrev i en fane som ble lukket.', 'Hvor ble det av boksen?', 'Skrevet uten nett i en fane som ble lukket.'];
  for (const text of texts) env.tavla.sensitive.add(text);
  const kari = await signedIn(env.browser, env.tavla, kariApi, { allowedOrigins });
  const ola = await signedIn(env.browser, env.tavla, olaApi, { allowedOrigins });
  const sara = await signedIn(env.browser, env.tavla, saraApi, { allowedOrigins });
  // Pages lose their connection on purpose here; the console errors that go with it are not
  // what this test is about.
  const o = ola.page;
  const s = sara.page;
  await openClassDoc(o, lesson);
  await openClassDoc(s, lesson);
  await editor(o).click();
  await o.keyboard.type(texts[0]);
  await editor(s).getByText(texts[0]).waitFor();

  // A second tab of the same document, which Ola will close while the box is away.
  const second = await ola.context.newPage();
  await openClassDoc(second, lesson);
  await editor(second).getByText(texts[0]).waitFor();

  // The app itself is kept in Ola's browser (a service worker), ready before the box goes.
  await o.evaluate(() => navigator.serviceWorker.ready.then(() => true));

  // The box stops. Ola is told his work stays on his device, and goes on writing.
  await env.tavla.pause();
  await o.getByText('Frakoblet – det du skriver, er lagret på denne enheten og sendes når forbindelsen er tilbake.').waitFor();
  await checkAccessibility(o, 'a document while the box is away');
  await o.keyboard.press('Enter');
  await o.keyboard.type(texts[1]);
  const docName = `lesson.${lesson.id}.class`;
  const keptBefore = await keptUpdates(second, docName);
  await editor(second).click();
  await second.keyboard.press('Control+End');
  await second.keyboard.press('Enter');
  await second.keyboard.type(texts[2]);
  // Every keystroke is one update the browser keeps; the tab closes once they are all kept.
  await second.waitForFunction(async ([name, least]) => {
    const db = await new Promise((resolve) => { const r = indexedDB.open(`tavla-doc:${name}`); r.onsuccess = () => resolve(r.result); });
    const count = await new Promise((resolve) => { const c = db.transaction('updates').objectStore('updates').count(); c.onsuccess = () => resolve(c.result); });
    db.close();
    return count >= least;
  }, [docName, keptBefore + texts[2].length + 1], { polling: 100 });
  await second.close();

  // With the box still away, Ola opens Tavla again in a new tab: the app comes from his
  // browser, with the document and what he wrote in it, and says it is offline.
  const offlineTab = await ola.context.newPage();
  await offlineTab.goto(`${env.tavla.base}/doc?name=${encodeURIComponent(docName)}`);
  await expectHeading(offlineTab, 'Klassens dokument');
  await editor(offlineTab).getByText(texts[0]).waitFor();
  await offlineTab.getByText('Frakoblet – det du skriver, er lagret på denne enheten og sendes når forbindelsen er tilbake.').first().waitFor();
  // A message to the teacher written there waits in the browser, also when the tab closes.
  await offlineTab.getByLabel('Skriv til læreren').fill(texts[4]);
  await offlineTab.getByLabel('Skriv til læreren').press('Enter');
  await offlineTab.waitForFunction((text) => (localStorage.getItem('tavla.outbox') ?? '').includes(text), texts[4]);
  await offlineTab.close();

  // The box comes back: Ola's page says it has everything again, and Sara sees all of it.
  await env.tavla.resume();
  await o.getByText('Tilkoblet igjen. Alt du skrev mens du var frakoblet, er lagret på boksen.').waitFor({ timeout: 30000 });
  await editor(s).getByText(texts[1]).waitFor({ timeout: 30000 });
  // The closed tab's words were kept in the browser: opening the document again brings them.
  const reopened = await ola.context.newPage();
  await openClassDoc(reopened, lesson);
  await editor(reopened).getByText(texts[2]).waitFor();
  await editor(s).getByText(texts[2]).waitFor({ timeout: 30000 });
  for (const text of texts.slice(0, 3)) await editor(o).getByText(text).waitFor();

  // A question asked while the box is away waits, and arrives once.
  const k = kari.page;
  await k.goto(`${env.tavla.base}/teacher/lesson?id=${lesson.id}`);
  await expectHeading(k, 'Time: 6D');
  await o.goto(`${env.tavla.base}/lesson`);
  await expectHeading(o, 'Time i 6D');
  await o.getByText('Koblet til timen.').waitFor();
  await env.tavla.pause();
  await o.getByLabel('Spørsmål til læreren (valgfritt)').fill(texts[3]);
  await o.getByRole('button', { name: 'Rekk opp hånda' }).click();
  await env.tavla.resume();
  await k.locator('.hand-queue').getByText(texts[3]).waitFor({ timeout: 40000 });
  await k.getByRole('button', { name: 'Svar Ola' }).click();
  await k.locator('.thread-view').getByText(texts[3]).first().waitFor();
  assert.equal(await k.locator('.thread-view').getByText(texts[3]).count(), 1, 'the question is in the thread once');
  // The message from the closed offline tab was sent by the next page Ola opened, once.
  await k.locator('.thread-view').getByText(texts[4]).first().waitFor();
  assert.equal(await k.locator('.thread-view').getByText(texts[4]).count(), 1, 'the offline message is in the thread once');
  await o.reload();
  await o.getByRole('list', { name: 'Meldinger med læreren' }).getByText(texts[3]).waitFor();
  assert.equal(await o.getByRole('list', { name: 'Meldinger med læreren' }).getByText(texts[3]).count(), 1);

  // On a shared device, leaving takes Ola's documents off it.
  assert.ok((await o.evaluate(async () => (await indexedDB.databases()).length)) > 0);
  await o.getByRole('button', { name: 'Gå ut av timen' }).click();
  await o.waitForURL('**/join');
  assert.deepEqual(await o.evaluate(async () => (await indexedDB.databases()).map((d) => d.name)), [], 'nothing of Ola\'s is left in the browser');
});

test('the service worker keeps only the app: an answer of the API opened in a tab is neither kept nor shown offline as the app', async () => {
  const { pupils: [adaApi] } = await lessonWithPupils(env.tavla, ['Ada'], { className: '6E' });
  const allowedOrigins = [env.tavla.base, env.tavla.base.replace('https', 'wss')];
  const ada = await signedIn(env.browser, env.tavla, adaApi, { allowedOrigins });
  const a = ada.page;
  await a.goto(`${env.tavla.base}/lesson`);
  await expectHeading(a, 'Time i 6E');
  await a.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  // Ada's own data opened in a tab of its own (a navigation the worker sees).
  const tab = await ada.context.newPage();
  const answer = await tab.goto(`${env.tavla.base}/api/me`);
  assert.equal(answer.status(), 200);
  const kept = await a.evaluate(async () => {
    const names = await caches.keys();
    const out = [];
    for (const name of names) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        out.push({ path: new URL(request.url).pathname, type: response.headers.get('content-type') ?? '', body: (await response.text()).slice(0, 200) });
      }
    }
    return out;
  });
  assert.ok(kept.length > 0, 'the app is kept');
  for (const entry of kept) {
    assert.ok(['/', '/app.js', '/style.css'].includes(entry.path) || entry.path.startsWith('/fonts/'), `only the app is kept: ${entry.path}`);
    assert.ok(!entry.type.includes('json') && !entry.body.includes('"name"'), `nothing of Ada's is kept as ${entry.path}`);
  }
  const shell = kept.find((entry) => entry.path === '/');
  assert.ok(shell?.type.startsWith('text/html'), 'the page kept is the app\'s page');
  // Offline, a page of the app is the app, never what the tab showed.
  await env.tavla.pause();
  try {
    const offline = await ada.context.newPage();
    await offline.goto(`${env.tavla.base}/lesson`);
    assert.ok(!(await offline.content()).includes('"name"'), 'offline, the app is not someone\'s data');
    await offline.locator('#app').waitFor({ state: 'attached' });
    await offline.close();
  } finally {
    await env.tavla.resume();
  }
  await tab.close();
  assert.deepEqual(ada.problems, []);
});
