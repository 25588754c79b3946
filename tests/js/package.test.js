// The Debian package as a school's IT contact uses it: `dpkg -i` puts the binary, the unit,
// the settings file and a system user in place; the server runs as that user on
// /var/lib/tavla; installing again (an upgrade) keeps the data and the school's changes to
// /etc/tavla/tavla.toml; removing keeps the data; purging deletes it and the user.
// Runs only as root where dpkg is, and never over a Tavla already installed on the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, chownSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const binary = join(targetDir, 'debug', 'tavla');
const run = (...args) => execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const installed = () => spawnSync('dpkg', ['-s', 'tavla']).status === 0;
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

function cannotRun() {
  if (process.getuid?.() !== 0) return 'needs root to install a package';
  if (!has('dpkg') || !has('dpkg-deb') || !has('adduser') || !has('runuser')) return 'needs dpkg, adduser and runuser';
  if (!existsSync(binary)) return `no build at ${binary}`;
  if (installed()) return 'a tavla package is already installed on this machine; it is left alone';
  return null;
}

/** Starts the packaged server as systemd would (its user, its data dir), until it serves. */
async function serveOnce() {
  mkdirSync('/var/lib/tavla', { recursive: true });
  const uid = Number(run('id', '-u', 'tavla').trim());
  const gid = Number(run('id', '-g', 'tavla').trim());
  chownSync('/var/lib/tavla', uid, gid);
  chmodSync('/var/lib/tavla', 0o700);
  const child = spawn('runuser', ['-u', 'tavla', '--', '/usr/bin/tavla', 'serve', '--data-dir', '/var/lib/tavla',
    '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--sync-listen', '127.0.0.1:0', '--media-udp-port', '0', '--no-mdns'],
  { env: { PATH: process.env.PATH, TAVLA_CONFIG: '/etc/tavla/tavla.toml' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (/Press Ctrl-C/.test(out)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`tavla exited with ${code}: ${out}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return out;
}

test('the .deb installs, runs as its own user, keeps data and settings on upgrade and removal, and purges', async (t) => {
  const reason = cannotRun();
  if (reason) {
    t.skip(reason);
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'tavla-deb-'));
  try {
    const deb = run(join(root, 'deploy', 'make-deb.sh'), 'amd64', binary, out).trim();
    const info = run('dpkg-deb', '-I', deb);
    assert.match(info, /Package: tavla/);
    assert.match(info, /Architecture: amd64/);
    const files = run('dpkg-deb', '-c', deb);
    for (const file of ['./usr/bin/tavla', './lib/systemd/system/tavla.service', './etc/tavla/tavla.toml']) {
      assert.ok(files.includes(file), `${file} in the package`);
    }

    run('dpkg', '-i', deb);
    assert.ok(existsSync('/usr/bin/tavla'));
    assert.match(run('getent', 'passwd', 'tavla'), /^tavla:/, 'a system user');
    const unit = readFileSync('/lib/systemd/system/tavla.service', 'utf8');
    assert.match(unit, /ExecStart=\/usr\/bin\/tavla serve --data-dir \/var\/lib\/tavla/);
    assert.match(unit, /^Type=notify$/m);
    assert.match(unit, /^Environment=TAVLA_CONFIG=\/etc\/tavla\/tavla.toml$/m);
    // systemd's own check of the unit as installed (unknown keys, a missing binary, bad values).
    if (has('systemd-analyze')) {
      const verify = spawnSync('systemd-analyze', ['verify', '/lib/systemd/system/tavla.service'], { encoding: 'utf8' });
      assert.equal(verify.status, 0, `systemd-analyze verify: ${verify.stderr}`);
      assert.equal(verify.stderr.trim(), '', 'systemd-analyze verify has nothing to say about the unit');
    } else {
      t.diagnostic('systemd-analyze is not on this machine: the unit was not verified by systemd');
    }
    const first = await serveOnce();
    assert.match(first, /one-time link\): https:\/\/\S+\/setup\?token=/, 'the first teacher\'s link is printed');
    assert.ok(existsSync('/var/lib/tavla/FORMAT'), 'the data directory is made');
    const ca = readFileSync('/var/lib/tavla/tls/ca.crt', 'utf8');

    // An upgrade: the school's settings and the data stay.
    appendFileSync('/etc/tavla/tavla.toml', 'lesson_hours = 6   # changed by the school\n');
    run('dpkg', '-i', deb);
    assert.match(readFileSync('/etc/tavla/tavla.toml', 'utf8'), /changed by the school/);
    assert.ok(existsSync('/var/lib/tavla/FORMAT'), 'the data is kept on upgrade');
    await serveOnce();
    assert.equal(readFileSync('/var/lib/tavla/tls/ca.crt', 'utf8'), ca, 'the same box: its certificate authority is kept');

    // Removing keeps the data and settings; purging deletes them and the user.
    run('dpkg', '-r', 'tavla');
    assert.ok(!existsSync('/usr/bin/tavla'));
    assert.ok(existsSync('/var/lib/tavla/FORMAT'), 'the data is kept on removal');
    assert.ok(existsSync('/etc/tavla/tavla.toml'), 'the settings are kept on removal');
    run('dpkg', '-P', 'tavla');
    assert.ok(!existsSync('/var/lib/tavla'), 'purge deletes the data');
    assert.ok(!existsSync('/etc/tavla/tavla.toml'), 'purge deletes the settings');
    assert.notEqual(spawnSync('getent', ['passwd', 'tavla']).status, 0, 'purge deletes the user');
  } finally {
    if (installed()) spawnSync('dpkg', ['-P', 'tavla']);
    rmSync(out, { recursive: true, force: true });
  }
});
