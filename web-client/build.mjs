// Builds dist/ from src/: one bundled, minified script and stylesheet, and the page shell.
// `--check` also fails when the i18n files disagree on their keys or dist/ was stale.
import { build } from 'esbuild';
import { copyFileSync, readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const check = process.argv.includes('--check');
const here = new URL('.', import.meta.url).pathname;

function checkTranslations() {
  const dir = `${here}src/i18n/`;
  const langs = readdirSync(dir).filter((f) => f.endsWith('.json'));
  // `_meta.*` keys are notes for translators (a language's review status), never shown;
  // `key#one`, `key#two` … are plural forms a language needs (its plain `key` is `other`).
  const all = (f) => Object.keys(JSON.parse(readFileSync(dir + f, 'utf8'))).filter((k) => !k.startsWith('_meta.'));
  const keysOf = (f) => all(f).filter((k) => !k.includes('#')).sort();
  for (const lang of langs) {
    const keys = all(lang);
    const orphans = keys.filter((k) => k.includes('#') && !keys.includes(k.split('#')[0]));
    if (orphans.length) throw new Error(`${lang}: plural forms without their key ${JSON.stringify(orphans)}`);
  }
  const reference = keysOf('en.json');
  for (const lang of langs) {
    const keys = keysOf(lang);
    const missing = reference.filter((k) => !keys.includes(k));
    const extra = keys.filter((k) => !reference.includes(k));
    if (missing.length || extra.length) {
      throw new Error(`${lang}: missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)}`);
    }
  }
}

checkTranslations();
rmSync(`${here}dist`, { recursive: true, force: true });
mkdirSync(`${here}dist`, { recursive: true });
await build({
  entryPoints: { app: `${here}src/main.js`, style: `${here}src/style.css` },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'safari15', 'firefox100'],
  outdir: `${here}dist`,
  legalComments: 'none',
  logLevel: 'warning',
  // Served as files by the box (copied below), not bundled.
  external: ['/fonts/*'],
});
writeFileSync(`${here}dist/index.html`, readFileSync(`${here}src/index.html`, 'utf8').replace(/\n\s*/g, ''));
// The service worker is its own script at the root (its scope is the whole app), not bundled.
writeFileSync(`${here}dist/sw.js`, readFileSync(`${here}src/sw.js`, 'utf8'));
// The dyslexia-friendly font a pupil can choose is served by the box (never fetched from
// elsewhere), with its licence (SIL OFL 1.1).
const fonts = `${here}node_modules/@fontsource/opendyslexic/`;
mkdirSync(`${here}dist/fonts`, { recursive: true });
for (const weight of ['400', '700']) {
  copyFileSync(`${fonts}files/opendyslexic-latin-${weight}-normal.woff2`, `${here}dist/fonts/opendyslexic-${weight}.woff2`);
}
copyFileSync(`${fonts}LICENSE`, `${here}dist/fonts/OFL.txt`);

if (check) {
  const status = execFileSync('git', ['status', '--porcelain', '--', 'dist'], { cwd: here, encoding: 'utf8' });
  if (status.trim()) {
    throw new Error(`web-client/dist is not what src/ builds; run \`npm run build\` in web-client and commit:\n${status}`);
  }
}
