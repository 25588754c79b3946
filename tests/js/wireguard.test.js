// The VPN for real: the box in one network namespace, a pupil's home in another, joined only
// by a link that stands for the internet. A teacher gives Ola VPN access; his config brings a
// WireGuard tunnel up (wireguard-go, userspace, so no kernel module is needed), and through it
// he reaches the box's VPN address, joins the lesson, and is marked as at home. His tunnel
// reaches nothing but the box.
// Needs root, iproute2, wireguard-tools and wireguard-go (tests/run-all.sh installs them);
// else it is skipped and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { namespacesUnavailable } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR ?? join(here, '..', '..', 'target');
const binary = join(targetDir, 'debug', 'tavla');
const run = (...args) => execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WG_QUICK_USERSPACE_IMPLEMENTATION: 'wireguard-go', WG_SUDO: '1' } });
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TAVLA_')));

const LAN = '10.217.0.1';
const HOME = '10.217.0.2';

test('a pupil at home reaches the box through the WireGuard tunnel it issued, and is at home', async (t) => {
  const reason = namespacesUnavailable(['wg', 'wg-quick', 'wireguard-go'], (probe) => (
    spawnSync('ip', ['netns', 'exec', probe, 'ip', 'tuntap', 'add', 'mode', 'tun', 'name', 't0']).status === 0
      ? null
      : 'this machine has no TUN device for wireguard-go'));
  if (reason) {
    t.skip(reason);
    return;
  }
  const box = `tavla-wg-box-${process.pid}`;
  const home = `tavla-wg-home-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'tavla-wg-'));
  run('ip', 'netns', 'add', box);
  run('ip', 'netns', 'add', home);
  let server;
  try {
    run('ip', '-n', box, 'link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'wan1', 'netns', home);
    for (const [ns, dev, address] of [[box, 'wan0', LAN], [home, 'wan1', HOME]]) {
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      run('ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', dev);
      run('ip', '-n', ns, 'link', 'set', dev, 'up');
    }
    const config = join(dir, 'tavla.toml');
    writeFileSync(config, `[vpn]\nendpoint = "${LAN}:51820"\n`);
    server = spawn('ip', ['netns', 'exec', box, binary, 'serve', '--no-mdns', '--config', config, '--data-dir', join(dir, 'data'),
      '--listen', '0.0.0.0:8443', '--http-listen', '0.0.0.0:8080', '--media-udp-port', '0'],
    { env: { ...env, RUST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const setup = await new Promise((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (chunk) => {
        out += chunk;
        const link = out.match(/one-time link\): (\S+)/);
        if (link && /Press Ctrl-C/.test(out)) resolve(link[1]);
      });
      server.on('exit', (code) => reject(new Error(`tavla exited with ${code}: ${out}`)));
    });
    const ca = join(dir, 'data', 'tls', 'ca.crt');
    const driver = (...args) => execFileSync('ip', ['netns', 'exec', home, process.execPath, join(here, 'vpn-at-home.mjs'), ...args],
      { encoding: 'utf8', env: { ...process.env, SETUP_URL: setup } }).trim();

    // At school (over the LAN): Ola is given VPN access.
    const pupilConfig = join(dir, 'tavla.conf');
    const code = driver('give', `https://${LAN}:8443`, ca, pupilConfig);
    const text = readFileSync(pupilConfig, 'utf8');
    assert.match(text, /AllowedIPs = 10\.8\.0\.1\/32/);

    // The box brings its interface up from the file Tavla wrote; Ola brings his tunnel up.
    run('ip', 'netns', 'exec', box, 'wg-quick', 'up', join(dir, 'data', 'vpn', 'wg-tavla.conf'));
    run('ip', 'netns', 'exec', home, 'wg-quick', 'up', pupilConfig);
    // His tunnel routes the box's VPN address only.
    const routes = run('ip', '-n', home, 'route', 'show', 'dev', 'tavla');
    assert.match(routes, /10\.8\.0\.1/);
    assert.doesNotMatch(routes, /default|10\.217\./, routes);

    // At home: through the tunnel, Ola joins the lesson and the box sees he is at home.
    const role = driver('join', 'https://10.8.0.1:8443', ca, code);
    assert.equal(role, 'remote_pupil');
    const handshake = run('ip', 'netns', 'exec', box, 'wg', 'show', 'wg-tavla', 'latest-handshakes');
    assert.match(handshake, /\t[1-9]\d*/, `a handshake happened: ${handshake}`);
  } finally {
    server?.kill('SIGTERM');
    for (const ns of [box, home]) spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean).forEach((pid) => spawnSync('kill', [pid]));
    spawnSync('ip', ['netns', 'del', box]);
    spawnSync('ip', ['netns', 'del', home]);
    rmSync(dir, { recursive: true, force: true });
  }
});
