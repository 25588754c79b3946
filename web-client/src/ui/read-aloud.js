// "Read aloud" through the browser's own speech synthesis (nothing leaves the device). Shown
// only when the pupil asked for it in their profile and the browser can speak.
import { h } from './dom.js';
import { announce } from './announce.js';
import { t, lang } from '../i18n.js';

/** BCP 47 tags to look for a voice under, per interface language (Sami voices are rare). */
const VOICES = { nb: ['nb', 'no', 'nn'], nn: ['nn', 'nb', 'no'], se: ['se', 'sme'], en: ['en'] };

const wanted = () => document.documentElement.classList.contains('read-aloud') && 'speechSynthesis' in window;

function voiceFor(code) {
  const voices = window.speechSynthesis.getVoices();
  for (const prefix of VOICES[code] ?? [code]) {
    const voice = voices.find((v) => v.lang.toLowerCase().startsWith(prefix));
    if (voice) return voice;
  }
  return null;
}

/**
 * A button that reads `text()` aloud (again: stops), or null when read aloud is off. `label`
 * says what it reads, for the button's accessible name.
 */
export function readAloudButton(text, label) {
  if (!wanted()) return null;
  return h('button', { type: 'button', class: 'read-aloud', onclick: () => {
    const synth = window.speechSynthesis;
    if (synth.speaking) {
      synth.cancel();
      return;
    }
    const voice = voiceFor(lang());
    if (!voice) {
      announce(t('read_aloud.no_voice'));
      return;
    }
    const utterance = new SpeechSynthesisUtterance(text());
    utterance.voice = voice;
    utterance.lang = voice.lang;
    synth.speak(utterance);
  } }, label);
}
