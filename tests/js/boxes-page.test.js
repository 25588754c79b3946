// The teacher's "Paired boxes" page, by keyboard, in a browser: two boxes on loopback; Kari
// makes a code on box A's page, Nils types it (with A's address and fingerprint) on box B's
// page and pairs; A's page then lists B and she chooses, by keyboard, to share her class with
// it; B's page shows when it last synced, and the class arrives there. axe-core on each state.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { checkAccessibility, expectHeading, launchChromium, lessonWithPupils, signedIn, startTavla, tabTo } from './harness.js';

const boxes = [];
let browser;
after(async () => {
  await browser?.close();
  for (const box of boxes) await box.stop();
});

test('pairing two boxes and sharing a class from the teacher\'s page, keyboard only', async () => {
  const a = await startTavla();
  boxes.push(a);
  const b = await startTavla();
  boxes.push(b);
  // The browser trusts neither box's certificate here; both pages are on loopback.
  browser = await launchChromium();
  const { teacher: kariApi } = await lessonWithPupils(a, [], { className: '6C', roster: ['Siri'] });
  const { teacher: nilsApi } = await lessonWithPupils(b, [], { className: '9A' });
  const origins = (box) => [box.base, box.base.replace('https', 'wss')];
  const kari = await signedIn(browser, a, kariApi, { allowedOrigins: origins(a) });
  const nils = await signedIn(browser, b, nilsApi, { allowedOrigins: origins(b) });

  // From the start page to the pairing page, and a code made, by keyboard.
  await kari.page.goto(`${a.base}/teacher`);
  await tabTo(kari.page, 'Par denne boksen med en annen, og velg hva de deler');
  await kari.page.keyboard.press('Enter');
  await expectHeading(kari.page, 'Parede bokser');
  await tabTo(kari.page, 'Lag en paringskode');
  await kari.page.keyboard.press('Enter');
  const codeLine = await kari.page.locator('.pairing-code').textContent();
  const code = codeLine.split(': ')[1];
  const fingerprint = await kari.page.locator('code.fingerprint').last().textContent();
  assert.match(code, /^[2-9A-Z]{5}-[2-9A-Z]{5}$/);
  await checkAccessibility(kari.page, 'a pairing code');

  // On box B: the form, typed.
  await nils.page.goto(`${b.base}/teacher/boxes`);
  await expectHeading(nils.page, 'Parede bokser');
  await tabTo(nils.page, 'Den andre boksens adresse');
  await nils.page.keyboard.type(a.syncAddress);
  await tabTo(nils.page, 'Paringskode');
  await nils.page.keyboard.type(code.toLowerCase());
  await tabTo(nils.page, 'Fingeravtrykket dens (om du vil at det skal sjekkes)');
  await nils.page.keyboard.type(fingerprint);
  await tabTo(nils.page, 'Par');
  await nils.page.keyboard.press('Enter');
  await nils.page.getByText(/^Paret med /).waitFor();
  await checkAccessibility(nils.page, 'a paired box on B');

  // On A: B is listed; Kari shares 6C with it by keyboard.
  await kari.page.reload();
  await expectHeading(kari.page, 'Parede bokser');
  await tabTo(kari.page, '6C');
  await kari.page.keyboard.press('Space');
  await tabTo(kari.page, 'Lagre hva den får');
  await kari.page.keyboard.press('Enter');
  await kari.page.getByText(/^Lagret\./).waitFor();
  await checkAccessibility(kari.page, 'what a paired box receives');

  // The class arrives on B, and B's page says when it last synced.
  for (let i = 0; i < 600; i += 1) {
    const classes = (await nilsApi.call('GET', '/api/classes')).body.classes;
    if (classes.some((c) => c.name === '6C')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok((await nilsApi.call('GET', '/api/classes')).body.classes.some((c) => c.name === '6C'), '6C arrived on B');
  await nils.page.reload();
  await nils.page.getByText(/^Sist synkronisert /).waitFor();
  for (const who of [kari, nils]) assert.deepEqual(who.problems, []);
});
