// Starts the real tavla binary on loopback with a temp data dir; talks to its API over HTTPS
// trusting its CA; starts Debian's Chromium through playwright-core. Every page a test visits
// is checked with axe-core and watched for requests that leave the box and for console errors
// (a CSP violation is one).
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:https';
import tls from 'node:tls';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });

const TEACHER_PASSWORD = 'riktig hest batteri';
const targetDir = process.env.CARGO_TARGET_DIR ?? join(here, '..', '..', 'target');
const binary = process.env.TEST_TAVLA_BINARY ?? join(targetDir, 'debug', 'tavla');

/**
 * Runs `tavla serve` and waits for the addresses and setup link it prints. Its log (at info)
 * is kept; `stop()` fails if any line holds a name or password a test typed (`sensitive`):
 * logs never hold people's names, messages or document text. `binary` and `runner` (a command
 * and its arguments to run it with, e.g. qemu-user for an aarch64 build) are for arm64.test.js.
 */
export async function startTavla({ binary: chosen = binary, runner = [], netns = process.env.TEST_BOX_NETNS, address, syncAddress } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tavla-browser-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TAVLA_')));
  // capture.test.js runs the box in a network namespace of its own, on an address there.
  // boxes.test.js runs two boxes, each in a namespace of its own with an address for the test
  // and one on the link between the boxes (`syncAddress`).
  const host = address ?? process.env.TEST_BOX_ADDRESS ?? '127.0.0.1';
  let log = '';
  /** Starts the box on these addresses (port 0: any); resolves with what it printed. */
  const launch = (https, http, sync = `${syncAddress ?? host}:0`) => {
    const args = ['serve', '--data-dir', join(dataDir, 'data'), '--listen', https, '--http-listen', http, '--sync-listen', sync, '--media-udp-port', '0', '--no-mdns'];
    const run = [...runner, chosen, ...args];
    const [command, ...commandArgs] = netns ? ['ip', 'netns', 'exec', netns, ...run] : run;
    const child = spawn(command, commandArgs, {
      env: { ...env, RUST_LOG: 'info', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (chunk) => { log += chunk; });
    return new Promise((resolve, reject) => {
      let out = '';
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`tavla exited with ${code}: ${out}`)));
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const httpsAt = out.match(/https: ([\d.]+:\d+)/);
        const httpAt = out.match(/http: +([\d.]+:\d+)/);
        const syncAt = out.match(/boxes: ([\d.]+:\d+)/);
        const setup = out.match(/one-time link\): (\S+)/);
        if (httpsAt && httpAt && /Press Ctrl-C/.test(out)) resolve({ child, https: httpsAt[1], http: httpAt[1], sync: syncAt?.[1], setup: setup?.[1] });
      });
    });
  };
  const stopChild = async (child) => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  };
  let running = await launch(`${host}:0`, `${host}:0`);
  return {
    base: `https://${running.https}`,
    httpBase: `http://${running.http}`,
    setupUrl: running.setup,
    /** Where paired boxes reach it (`host:port`). */
    get syncAddress() { return running.sync; },
    caPem: readFileSync(join(dataDir, 'data', 'tls', 'ca.crt')),
    sensitive: new Set([TEACHER_PASSWORD]),
    /** Stops the box (as a power cut would end its connections); `resume()` brings it back. */
    async pause() {
      await stopChild(running.child);
    },
    /** Starts the box again on the same addresses and data. */
    async resume() {
      running = await launch(running.https, running.http, running.sync);
    },
    async stop() {
      await stopChild(running.child);
      rmSync(dataDir, { recursive: true, force: true });
      const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const words = [...this.sensitive].map((s) => new RegExp(`(^|[^\\p{L}])${escape(s)}($|[^\\p{L}])`, 'u'));
      const leaks = log.split('\n').filter((line) => words.some((word) => word.test(line)));
      assert.deepEqual(leaks, [], 'the log holds a name or password');
    },
  };
}

/**
 * Calls Tavla's JSON API as one person: `cookie` carries their session between calls.
 * Returns `{ status, body }`.
 */
export function apiClient(tavla) {
  let cookie = '';
  const call = (method, path, body) => new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(tavla.base + path, {
      method,
      ca: tavla.caPem,
      headers: { cookie, ...(payload ? { 'content-type': 'application/json' } : {}) },
    }, (res) => {
      const setCookie = res.headers['set-cookie']?.[0];
      if (setCookie) cookie = setCookie.split(';')[0];
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(payload);
  });
  return { call, cookie: () => cookie };
}

/**
 * The teacher Kari with a lesson of a new class (`className`, 7B unless said), and `pupils`
 * guests who joined it (a name, or `{ name, atHome }`); `roster` names the class list. The first call on a Tavla sets Kari
 * up; later ones sign her in.
 */
export async function lessonWithPupils(tavla, pupils, { className = '7B', roster = [] } = {}) {
  const teacher = apiClient(tavla);
  const credentials = { name: 'Kari', password: TEACHER_PASSWORD };
  for (const name of ['Kari', ...pupils.map((p) => (typeof p === 'string' ? p : p.name))]) tavla.sensitive.add(name);
  if (tavla.teacherReady) {
    assert.equal((await teacher.call('POST', '/api/login', credentials)).status, 200);
  } else {
    const token = new URL(tavla.setupUrl).searchParams.get('token');
    assert.equal((await teacher.call('POST', '/api/setup', { token, ...credentials })).status, 200);
    tavla.teacherReady = true;
  }
  for (const name of roster) tavla.sensitive.add(name);
  const cls = (await teacher.call('POST', '/api/classes', { name: className, pupils: roster })).body;
  const lesson = (await teacher.call('POST', '/api/lessons', { class_id: cls.id })).body;
  const joined = [];
  for (const entry of pupils) {
    const { name, atHome = false } = typeof entry === 'string' ? { name: entry } : entry;
    const pupil = apiClient(tavla);
    assert.equal((await pupil.call('POST', '/api/join', { code: lesson.code, name, at_home: atHome })).status, 200);
    joined.push(pupil);
  }
  return { teacher, lesson, pupils: joined };
}

/**
 * Chromium's `--ignore-certificate-errors-spki-list` value for the box's own certificate: the
 * browser then treats the box as a trusted site, as a school-managed device that has the box's
 * CA installed does. Service workers need that; a click-through certificate warning is not enough.
 */
export async function boxCertificateHash(tavla) {
  const { hostname, port } = new URL(tavla.base);
  const certificate = await new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate());
      socket.end();
    });
    socket.on('error', reject);
  });
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * Headless Chromium; `trusting` is a `boxCertificateHash` whose certificate it accepts as valid.
 * A browser that crashes while starting (seen once on the CI machine: SIGSEGV before any page)
 * is started once more; a second failure fails the test. Nothing a test checks has run yet.
 */
export async function launchChromium({ trusting } = {}) {
  try {
    return await startChromium(trusting);
  } catch (error) {
    console.error(`Chromium did not start (${error.message.split('\n')[0]}); starting it once more`);
    return startChromium(trusting);
  }
}

function startChromium(trusting) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      // Tavla listens on 127.0.0.1 in tests; received audio plays without a click.
      '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
      ...(trusting ? [`--ignore-certificate-errors-spki-list=${trusting}`] : []),
    ],
  });
}

/**
 * A browser context for one person. `problems` collects console errors and any request that
 * does not go to the box; `answers` are typed into the page's prompts, in order.
 */
export async function person(browser, { viewport = { width: 1280, height: 900 }, allowedOrigins }) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport, locale: 'nb-NO' });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    // The test browser trusts the box's certificate of when it started (see
    // `boxCertificateHash`); a test that makes the box issue a new one (setting up the VPN)
    // leaves later service-worker fetches untrusted, which a device trusting the CA never sees.
    const untrustedWorker = /SSL certificate error occurred when fetching the script/.test(msg.text());
    if (msg.type() === 'error' && !untrustedWorker && !/Failed to load resource.*status of (4\d\d)/.test(msg.text())) {
      problems.push(`console: ${msg.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    const url = request.url();
    if (!allowedOrigins.some((origin) => url.startsWith(origin)) && !url.startsWith('data:')) {
      problems.push(`request left the box: ${url}`);
    }
  });
  // Confirmations are accepted; a prompt gets the next of `answers` (tests push to it).
  const answers = [];
  page.on('dialog', (dialog) => dialog.accept(answers.shift()));
  return { context, page, problems, answers };
}

/** axe-core on the page as it is now; fails on any WCAG 2.1 A/AA violation. */
export async function checkAccessibility(page, label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  const summary = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  assert.deepEqual(summary, [], `axe-core on ${label}`);
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** Waits until the page's level-1 heading reads `text` (pages draw after navigation). */
export async function expectHeading(page, text) {
  await page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
}

/** A browser context signed in with an API client's session cookie. */
export async function signedIn(browser, tavla, client, options) {
  const who = await person(browser, options);
  const [name, value] = client.cookie().split('=');
  await who.context.addCookies([{ name, value, url: tavla.base, secure: true, httpOnly: true, sameSite: 'Strict' }]);
  return who;
}

/**
 * For a test file: starts Tavla and Chromium before its tests and stops them after. Returns an
 * object whose `tavla` and `browser` are set once they run. Chromium trusts the box's
 * certificate, as the school's devices do once its CA is installed (see `boxCertificateHash`).
 */
export function tavlaAndChromium({ before, after }) {
  const env = { tavla: null, browser: null };
  before(async () => {
    env.tavla = await startTavla();
    env.browser = await launchChromium({ trusting: await boxCertificateHash(env.tavla) });
  });
  after(async () => {
    await env.browser?.close();
    await env.tavla?.stop();
  });
  return env;
}

/**
 * Why a test that makes network namespaces cannot run here — not root, one of `commands`
 * missing, no namespaces allowed, or what `probe(namespace)` finds lacking in a throwaway
 * namespace — or null. Such a test is then skipped with this reason, never passed.
 */
export function namespacesUnavailable(commands, probe = () => null) {
  if (process.getuid?.() !== 0) return 'needs root to make network namespaces';
  for (const command of ['ip', ...commands]) {
    if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) return `needs ${command}`;
  }
  const namespace = `tavla-probe-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', namespace]).status !== 0) return 'this machine does not allow network namespaces';
  try {
    return probe(namespace);
  } finally {
    spawnSync('ip', ['netns', 'del', namespace]);
  }
}

/** The accessible name of what has focus (its label, aria-label or text); '' on <body>. */
export const focusedName = (page) => page.evaluate(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '';
  const label = el.labels?.[0]?.textContent ?? el.getAttribute('aria-label') ?? el.textContent;
  return (label ?? '').trim();
});

/**
 * Presses Tab (at most 80 times) until the focused element is named `name`; fails if it never
 * comes. One step of a keyboard walk.
 */
export async function tabTo(page, name) {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    if (await focusedName(page) === name) return;
  }
  assert.fail(`Tab never reached "${name}"`);
}

// Keeps every RTCPeerConnection a page makes, so the test can read getStats() from them.
export function recordPeers() {
  const Native = window.RTCPeerConnection;
  window.testPeers = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.testPeers.push(this);
    }
  };
}

/** The sum of `field` over every inbound RTP stream of `kind` on the page's peers. */
const received = (page, kind, field) => page.evaluate(async ([kind, field]) => {
  let total = 0;
  for (const pc of window.testPeers) {
    if (pc.connectionState === 'closed') continue;
    for (const report of (await pc.getStats()).values()) {
      if (report.type === 'inbound-rtp' && report.kind === kind) total += report[field] ?? 0;
    }
  }
  return total;
}, [kind, field]);

/** Waits until `field` grows past what it is now (and past zero). */
export async function grows(page, kind, field) {
  const before = await received(page, kind, field);
  await page.waitForFunction(async ([kind, field, before]) => {
    let total = 0;
    for (const pc of window.testPeers) {
      if (pc.connectionState === 'closed') continue;
      for (const report of (await pc.getStats()).values()) {
        if (report.type === 'inbound-rtp' && report.kind === kind) total += report[field] ?? 0;
      }
    }
    return total > before;
  }, [kind, field, before], { polling: 250, timeout: 30000 });
}
