// The VPN for real: the box in one network namespace, a pupil's home in another, joined only
// by a link that stands for the internet. A teacher gives Ola VPN access; his config brings a
// WireGuard tunnel up (wireguard-go, userspace, so no kernel module is needed), and through it
// he reaches the box's VPN address, joins the lesson, and is marked as at home. His tunnel
// reaches nothing but the box: not even when he edits his config to route the school's network
// through it and the box forwards packets (ip_forward on).
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
// The school's network behind the box: a host there the tunnel must never reach.
const SCHOOL_BOX = '10.218.0.1';
const SCHOOL_HOST = '10.218.0.2';

/** Whether a TCP connection from namespace `ns` to `host:port` is answered within 3 s. */
const reaches = (ns, host, port) => spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', `
  const s = require('net').connect(${port}, '${host}');
  s.setTimeout(3000, () => process.exit(1));
  s.on('data', () => process.exit(0));
  s.on('error', () => process.exit(1));`]).status === 0;

test('a pupil at home reaches the box through the WireGuard tunnel it issued, and is at home', async (t) => {
  const reason = namespacesUnavailable(['wg', 'wg-quick', 'wireguard-go', 'nft'], (probe) => (
    spawnSync('ip', ['netns', 'exec', probe, 'ip', 'tuntap', 'add', 'mode', 'tun', 'name', 't0']).status === 0
      ? null
      : 'this machine has no TUN device for wireguard-go'));
  if (reason) {
    t.skip(reason);
    return;
  }
  const box = `tavla-wg-box-${process.pid}`;
  const home = `tavla-wg-home-${process.pid}`;
  const school = `tavla-wg-lan-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'tavla-wg-'));
  run('ip', 'netns', 'add', box);
  run('ip', 'netns', 'add', home);
  run('ip', 'netns', 'add', school);
  let server;
  let schoolHost;
  try {
    run('ip', '-n', box, 'link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'wan1', 'netns', home);
    for (const [ns, dev, address] of [[box, 'wan0', LAN], [home, 'wan1', HOME]]) {
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      run('ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', dev);
      run('ip', '-n', ns, 'link', 'set', dev, 'up');
    }
    // The school's network behind the box, with a host that answers on TCP 7000; the box
    // forwards packets (as a host set up as a router might).
    run('ip', '-n', box, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan1', 'netns', school);
    for (const [ns, dev, address] of [[box, 'lan0', SCHOOL_BOX], [school, 'lan1', SCHOOL_HOST]]) {
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      run('ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', dev);
      run('ip', '-n', ns, 'link', 'set', dev, 'up');
    }
    run('ip', '-n', school, 'route', 'add', 'default', 'via', SCHOOL_BOX);
    run('ip', 'netns', 'exec', box, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    schoolHost = spawn('ip', ['netns', 'exec', school, process.execPath, '-e',
      `require('net').createServer((s) => s.end('hei')).listen(7000, '${SCHOOL_HOST}', () => console.log('listening'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => schoolHost.stdout.once('data', resolve));
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

    // Ola edits his tunnel to carry the school's network too. The box forwards packets, but
    // not through the VPN: the host behind it is out of reach.
    const boxKey = run('ip', 'netns', 'exec', box, 'wg', 'show', 'wg-tavla', 'public-key').trim();
    run('ip', 'netns', 'exec', home, 'wg', 'set', 'tavla', 'peer', boxKey, 'allowed-ips', '10.8.0.1/32,10.218.0.0/24');
    run('ip', '-n', home, 'route', 'add', '10.218.0.0/24', 'dev', 'tavla');
    assert.equal(reaches(home, SCHOOL_HOST, 7000), false, 'the school\'s network is not reachable through the VPN');
    // The same with the box's rule taken away: the host answers, so the test can tell.
    run('ip', 'netns', 'exec', box, 'nft', 'delete', 'table', 'inet', 'tavla-vpn');
    assert.equal(reaches(home, SCHOOL_HOST, 7000), true, 'without the rule the box would forward');
  } finally {
    server?.kill('SIGTERM');
    schoolHost?.kill();
    for (const ns of [box, home, school]) spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean).forEach((pid) => spawnSync('kill', [pid]));
    spawnSync('ip', ['netns', 'del', box]);
    spawnSync('ip', ['netns', 'del', home]);
    spawnSync('ip', ['netns', 'del', school]);
    rmSync(dir, { recursive: true, force: true });
  }
});
