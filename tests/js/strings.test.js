// Every visible string lives in the language files, and the four files agree: the same keys
// and the same placeholders in bokmål, nynorsk, Northern Sami and English. Reads the web
// client's sources; needs no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web-client', 'src');
const LANGUAGES = ['nb', 'nn', 'se', 'en'];
const dictionary = (lang) => JSON.parse(readFileSync(join(src, 'i18n', `${lang}.json`), 'utf8'));
/** A key without its plural form (`key#one` → `key`); notes to translators are not strings. */
const baseKey = (key) => key.split('#')[0];
const isString = (key) => !key.startsWith('_meta.');
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('the four language files have the same keys and the same placeholders', () => {
  const files = Object.fromEntries(LANGUAGES.map((lang) => [lang, dictionary(lang)]));
  const keysOf = (lang) => new Set(Object.keys(files[lang]).filter(isString).map(baseKey));
  const all = new Set(LANGUAGES.flatMap((lang) => [...keysOf(lang)]));
  for (const lang of LANGUAGES) {
    const missing = [...all].filter((key) => !keysOf(lang).has(key));
    assert.deepEqual(missing, [], `${lang}.json lacks these strings`);
  }
  for (const key of all) {
    const expected = placeholders(files.nb[key]);
    for (const lang of LANGUAGES) {
      const forms = Object.keys(files[lang]).filter((k) => baseKey(k) === key);
      for (const form of forms) {
        // A plural form may leave out the number it is about ("one pupil"), never add one.
        const got = placeholders(files[lang][form]);
        const ok = form.includes('#') ? got.every((p) => expected.includes(p)) : got.join() === expected.join();
        assert.ok(ok, `${lang} ${form}: placeholders ${got} where nb has ${expected}`);
      }
    }
  }
});

/** The client's sources, without the language files. */
function sources(dir = src) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'i18n' ? [] : sources(path);
    return name.endsWith('.js') || name.endsWith('.html') ? [path] : [];
  });
}

/** Names of keys (KeyboardEvent.key) and platforms the code compares with: not shown. */
const NOT_TEXT = new Set(['Home', 'End', 'Escape', 'Enter', 'Tab', 'Mod', 'Mac', 'Meta', 'Control', 'Shift', 'Alt',
  'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Backspace', 'Delete', 'PageUp', 'PageDown', 'Tavla']);

test('no visible string is written in the client\'s code instead of the language files', () => {
  const found = [];
  for (const file of sources()) {
    let code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
    if (file.endsWith('.html')) {
      // Text between tags (the <title> is the product's name).
      code = code.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, '');
      for (const m of code.matchAll(/>([^<]*\p{L}[^<]*)</gu)) {
        if (!NOT_TEXT.has(m[1].trim())) found.push(`${relative(src, file)}: ${m[1].trim()}`);
      }
      continue;
    }
    for (const m of code.matchAll(/(class:\s*|className\s*=\s*|addListNodes\([^,]*,\s*)?(['"`])((?:\\.|(?!\2)[^\\])*)\2/g)) {
      const [, context, , text] = m;
      // Class lists and the document schema's list content are words, not text.
      if (context) continue;
      const words = text.replace(/\$\{[^}]*\}/g, ' ');
      const sentence = /\p{L}{2,} +\p{L}{2,}/u.test(words);
      const word = /^\p{Lu}\p{Ll}{2,}$/u.test(words) && !NOT_TEXT.has(words);
      if (sentence || word) found.push(`${relative(src, file)}: ${text}`);
    }
  }
  assert.deepEqual(found, [], 'strings shown to people belong in web-client/src/i18n/*.json (t(key))');
});
