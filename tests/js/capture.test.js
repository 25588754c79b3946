// Proof that nothing leaves the box: a whole lesson (the box, two browsers, live video, a
// document, a private question) runs on two network namespaces joined by a veth link — the
// box on 10.213.0.2, the pupils' and teacher's browsers on 10.213.0.1 — while tcpdump records
// every packet on every interface of the box. The box's default route points out of that
// link, so anything it sent elsewhere (a CDN, telemetry, a DNS lookup, an update check)
// would be recorded with a stranger's address. The browsers' namespace has no way out at all,
// and the harness fails a page that requests anything but the box.
// Needs root, iproute2 and tcpdump (tests/run-all.sh installs tcpdump); else it is skipped
// and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { namespacesUnavailable } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const run = (...args) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

const BOX = '10.213.0.2';
const DEVICES = '10.213.0.1';

test('a whole lesson: the box sends every packet to the devices in the lesson and nowhere else', async (t) => {
  const reason = namespacesUnavailable(['tcpdump']);
  if (reason) {
    t.skip(reason);
    return;
  }
  const box = `tavla-box-${process.pid}`;
  const devices = `tavla-devices-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'tavla-capture-'));
  const pcap = join(dir, 'lesson.pcap');
  run('ip', 'netns', 'add', box);
  run('ip', 'netns', 'add', devices);
  try {
    const inBox = (...args) => run('ip', 'netns', 'exec', box, ...args);
    const inDevices = (...args) => run('ip', 'netns', 'exec', devices, ...args);
    inBox('ip', 'link', 'set', 'lo', 'up');
    inDevices('ip', 'link', 'set', 'lo', 'up');
    inBox('ip', 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'wifi0', 'netns', devices);
    for (const [inNs, dev, address] of [[inBox, 'lan0', BOX], [inDevices, 'wifi0', DEVICES]]) {
      inNs('sysctl', '-q', '-w', `net.ipv6.conf.${dev}.disable_ipv6=1`);
      inNs('ip', 'addr', 'add', `${address}/24`, 'dev', dev);
      inNs('ip', 'link', 'set', dev, 'up');
    }
    // Everything the box does not know goes out towards the devices' side, where it is seen.
    inBox('ip', 'route', 'add', 'default', 'via', DEVICES, 'dev', 'lan0');

    const tcpdump = spawn('ip', ['netns', 'exec', box, 'tcpdump', '-i', 'any', '-nn', '-U', '--immediate-mode', '-w', pcap], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise((resolve, reject) => {
      let err = '';
      tcpdump.stderr.on('data', (chunk) => {
        err += chunk;
        if (/listening on/.test(err)) resolve();
      });
      tcpdump.on('exit', (code) => reject(new Error(`tcpdump exited with ${code}: ${err}`)));
    });
    const lesson = spawnSync('ip', ['netns', 'exec', devices, process.execPath, join(here, 'lesson-in-a-box.mjs')], {
      stdio: 'inherit',
      env: { ...process.env, TEST_BOX_NETNS: box, TEST_BOX_ADDRESS: BOX },
      timeout: 240000,
    });
    tcpdump.kill('SIGINT');
    await new Promise((resolve) => tcpdump.on('exit', resolve));
    assert.equal(lesson.status, 0, 'the lesson ran to its end');

    const lines = run('tcpdump', '-nn', '-t', '-r', pcap).split('\n').filter(Boolean);
    // An end is `a.b.c.d.port` (or `a.b.c.d` without a port, as IGMP's).
    const address = (end) => end.split('.').slice(0, 4).join('.');
    const boxOwn = new Set([BOX, '127.0.0.1']);
    const strangers = new Set();
    let lessonPackets = 0;
    for (const line of lines) {
      const match = line.match(/ IP (\S+) > (\S+?):/);
      if (!match) {
        // Link-level chatter between the two ends (ARP) names no third party.
        if (!/ ARP, /.test(line)) strangers.add(line.slice(0, 100));
        continue;
      }
      const [from, to] = [address(match[1]), address(match[2])];
      // What the box sends goes to itself or to a device in the lesson; nothing else is on
      // the link but the devices' own packets (their multicast group reports included).
      const fromBox = boxOwn.has(from);
      if ((fromBox && !boxOwn.has(to) && to !== DEVICES) || (!fromBox && from !== DEVICES)) {
        strangers.add(line.slice(0, 100));
      }
      if (from === DEVICES || to === DEVICES) lessonPackets += 1;
    }
    assert.deepEqual([...strangers].slice(0, 20), [], 'the box sent to no one but the lesson\'s devices');
    // A lesson with live video makes thousands of packets; a handful would mean nothing ran.
    assert.ok(lessonPackets > 1000, `a real lesson was captured (${lessonPackets} packets to and from the devices)`);
  } finally {
    spawnSync('ip', ['netns', 'del', box]);
    spawnSync('ip', ['netns', 'del', devices]);
    rmSync(dir, { recursive: true, force: true });
  }
});
