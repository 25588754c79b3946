// Finding the box by name (mDNS), between two network namespaces the test makes and joins with
// a veth link — never the machine's real network: the box announces itself in one, and in the
// other `tavla discover` finds it within 3 s with its address, port, version and CA
// fingerprint and its port for paired boxes; `rom-204.local` resolves by mDNS; a new address on the box is announced; and
// when the box stops, a browser that is listening hears it withdraw at once (long before the
// records' lifetime would run out).
// Needs root and iproute2; else it is skipped and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { namespacesUnavailable } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR ?? join(here, '..', '..', 'target');
const binary = process.env.TEST_TAVLA_BINARY ?? join(targetDir, 'debug', 'tavla');
const run = (...args) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TAVLA_')));

const BOX = '10.215.0.1';
const MOVED = '10.215.0.11';
const CLIENT = '10.215.0.2';
const NAME = 'rom-204';

/** Lines a child prints, awaited one predicate at a time. */
function lines(child) {
  const seen = [];
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    seen.push(line);
    for (const w of [...waiting]) {
      if (w.match(line)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  return {
    seen,
    next(match, what, ms = 20000) {
      const earlier = seen.find(match);
      if (earlier) return Promise.resolve(earlier);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line for ${what} within ${ms} ms; saw: ${seen.join(' | ')}`)), ms);
        waiting.push({ match, resolve: (line) => { clearTimeout(timer); resolve(line); } });
      });
    },
  };
}

test('a box is found by name, resolves as <name>.local, follows its addresses and withdraws when it stops', async (t) => {
  const reason = namespacesUnavailable([]);
  if (reason) {
    t.skip(reason);
    return;
  }
  const box = `tavla-mdns-box-${process.pid}`;
  const client = `tavla-mdns-client-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'tavla-mdns-'));
  run('ip', 'netns', 'add', box);
  run('ip', 'netns', 'add', client);
  let server;
  try {
    run('ip', '-n', box, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'wifi0', 'netns', client);
    for (const [ns, dev, address] of [[box, 'lan0', BOX], [client, 'wifi0', CLIENT]]) {
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      run('ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', dev);
      run('ip', '-n', ns, 'link', 'set', dev, 'up');
      run('ip', '-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev);
    }
    const inClient = (...args) => spawnSync('ip', ['netns', 'exec', client, binary, ...args], { env, encoding: 'utf8', timeout: 30000 });

    server = spawn('ip', ['netns', 'exec', box, binary, 'serve', '--data-dir', join(dir, 'data'), '--listen', `${BOX}:0`,
      '--http-listen', `${BOX}:0`, '--sync-listen', `${BOX}:0`, '--media-udp-port', '0', '--host-name', NAME], { env: { ...env, RUST_LOG: 'info', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const out = lines(server);
    const port = Number((await out.next((l) => /https: /.test(l), 'the https address')).match(/:(\d+)\s*$/)[1]);
    const syncPort = Number((await out.next((l) => /boxes: /.test(l), 'the address for paired boxes')).match(/:(\d+) /)[1]);
    await out.next((l) => /announced on the network/.test(l), 'the announcement');
    const fingerprint = new X509Certificate(readFileSync(join(dir, 'data', 'tls', 'ca.crt'))).fingerprint256;

    // Found within 3 s, with what a device needs to know.
    const listed = inClient('discover', '--json', '--seconds', '3');
    assert.equal(listed.status, 0, listed.stderr);
    const boxes = JSON.parse(listed.stdout);
    const found = boxes.find((b) => b.name === NAME);
    assert.ok(found, `found ${NAME}: ${listed.stdout}`);
    assert.equal(found.host, `${NAME}.local`);
    assert.equal(found.port, port);
    assert.ok(found.addresses.includes(BOX), `the LAN address: ${found.addresses}`);
    assert.ok(!found.addresses.some((a) => a.startsWith('127.') || a === '::1'), 'never loopback');
    assert.match(found.version, /^\d+\.\d+\.\d+/);
    assert.equal(found.ca_sha256, fingerprint);
    assert.equal(found.sync_port, syncPort, 'where a paired box would connect');

    // The name resolves as a phone's browser would ask it.
    const resolved = inClient('discover', '--resolve', `${NAME}.local`, '--seconds', '3');
    assert.equal(resolved.status, 0, resolved.stderr);
    assert.ok(resolved.stdout.trim().split(' ').includes(BOX), resolved.stdout);

    // A new address (the box moved to another network) is announced.
    run('ip', '-n', box, 'addr', 'add', `${MOVED}/24`, 'dev', 'lan0');
    let addresses = [];
    for (let attempt = 0; attempt < 8 && !addresses.includes(MOVED); attempt += 1) {
      const again = inClient('discover', '--json', '--seconds', '3');
      addresses = JSON.parse(again.stdout).find((b) => b.name === NAME)?.addresses ?? [];
    }
    assert.ok(addresses.includes(MOVED), `the new address is announced: ${addresses}`);

    // A listening browser hears the box withdraw when it stops.
    const follower = spawn('ip', ['netns', 'exec', client, binary, 'discover', '--follow', '--seconds', '30'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const events = lines(follower);
    await events.next((l) => l.includes('"found"') && l.includes(NAME), 'the box found by the follower', 10000);
    server.kill('SIGTERM');
    await out.next((l) => /withdrew the mDNS announcement/.test(l), 'the withdrawal in the box log');
    await events.next((l) => l.includes('"gone"') && l.includes(NAME), 'the box gone', 10000);
    follower.kill('SIGTERM');
    if (server.exitCode === null && server.signalCode === null) await new Promise((resolve) => server.on('exit', resolve));
    server = null;
  } finally {
    server?.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', box]);
    spawnSync('ip', ['netns', 'del', client]);
    rmSync(dir, { recursive: true, force: true });
  }
});
