// Run by wireguard.test.js inside the "home" network namespace, in two steps:
//   node vpn-at-home.mjs give <box-lan-url> <ca-file> <config-out>   — over the LAN (a teacher
//     at school): sets up Kari, a class with Ola, a lesson; gives Ola VPN access, writes his
//     WireGuard config to <config-out>, prints the join code
//   node vpn-at-home.mjs join <box-vpn-url> <ca-file> <code>          — through the tunnel (Ola
//     at home): joins the lesson and prints the role the box gave him
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';

const [step, base, caFile, arg] = process.argv.slice(2);
const ca = readFileSync(caFile);
let cookie = '';
const call = (method, path, body) => new Promise((resolve, reject) => {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const req = request(base + path, { method, ca, headers: { cookie, ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
    const set = res.headers['set-cookie']?.[0];
    if (set) cookie = set.split(';')[0];
    let text = '';
    res.on('data', (chunk) => { text += chunk; });
    res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
  });
  req.on('error', reject);
  req.end(payload);
});
const ok = (answer, what) => {
  if (answer.status >= 300) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
};

if (step === 'give') {
  const token = new URL(process.env.SETUP_URL).searchParams.get('token');
  ok(await call('POST', '/api/setup', { token, name: 'Kari', password: 'riktig hest batteri' }), 'setup');
  const cls = ok(await call('POST', '/api/classes', { name: '4F', pupils: ['Ola'] }), 'class');
  const lesson = ok(await call('POST', '/api/lessons', { class_id: cls.id }), 'lesson');
  const issued = ok(await call('POST', `/api/classes/${cls.id}/pupils/${cls.pupils[0].id}/vpn`, {}), 'vpn');
  writeFileSync(arg, issued.config, { mode: 0o600 });
  console.log(lesson.code);
} else if (step === 'join') {
  const joined = ok(await call('POST', '/api/join', { code: arg, name: 'Ola fra hjemme' }), 'join');
  console.log(joined.role);
}
