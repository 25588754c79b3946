// Tavla built for a Raspberry Pi (aarch64, by deploy/cross-build.sh) runs here under qemu-user:
// `tavla serve` starts, /healthz answers, a teacher starts a lesson, a pupil joins, and two
// pupils' official Yjs clients edit the class document and see each other's text.
// tests/run-all.sh cross-builds the binary and installs qemu-user; without them the test is
// skipped and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { startTavla, lessonWithPupils } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR ?? join(here, '..', '..', 'target');
const binary = join(targetDir, 'aarch64-unknown-linux-gnu', 'debug', 'tavla');
const SYSROOT = '/usr/aarch64-linux-gnu';

function cannotRun() {
  if (!existsSync(binary)) return `no aarch64 build at ${binary} (deploy/cross-build.sh makes it)`;
  if (spawnSync('sh', ['-c', 'command -v qemu-aarch64']).status !== 0) return 'needs qemu-user (qemu-aarch64)';
  if (!existsSync(SYSROOT)) return `needs the aarch64 C library at ${SYSROOT} (gcc-aarch64-linux-gnu)`;
  return null;
}

const get = (tavla, path) => new Promise((resolve, reject) => {
  request(tavla.base + path, { ca: tavla.caPem }, (res) => {
    let text = '';
    res.on('data', (chunk) => { text += chunk; });
    res.on('end', () => resolve({ status: res.statusCode, text }));
  }).on('error', reject).end();
});

test('the aarch64 build serves a lesson under qemu: health, a lesson, a pupil, a shared document', async (t) => {
  const reason = cannotRun();
  if (reason) {
    t.skip(reason);
    return;
  }
  const file = spawnSync('file', [binary], { encoding: 'utf8' }).stdout ?? '';
  if (file) assert.match(file, /aarch64|ARM aarch64/, file);
  const tavla = await startTavla({ binary, runner: ['qemu-aarch64', '-L', SYSROOT] });
  const providers = [];
  try {
    const health = await get(tavla, '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.text.trim(), 'ok');
    const { lesson, pupils } = await lessonWithPupils(tavla, ['Ada', 'Bo']);
    assert.match(lesson.code, /^[A-Z0-9]{6}$/);
    const name = `lesson.${lesson.id}.class`;
    const connect = (who) => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(tavla.base.replace('https', 'wss') + '/yjs', name, doc, {
        WebSocketPolyfill: class extends WebSocket {
          constructor(url, protocols) {
            super(url, protocols, { ca: tavla.caPem, headers: { cookie: who.cookie() } });
          }
        },
        disableBc: true,
      });
      providers.push(provider);
      return doc;
    };
    const ada = connect(pupils[0]);
    const bo = connect(pupils[1]);
    ada.getText('t').insert(0, 'Hei frå ein Raspberry Pi. ');
    await new Promise((resolve) => {
      const check = () => {
        if (bo.getText('t').toString().includes('Raspberry Pi')) {
          bo.off('update', check);
          resolve();
        }
      };
      bo.on('update', check);
      check();
    });
  } finally {
    for (const p of providers) {
      p.destroy();
      p.doc.destroy();
    }
    await tavla.stop();
  }
});
