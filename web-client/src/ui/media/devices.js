// Cameras and microphones: asking for them, listing them for a picker, stopping them.
import { h, nextId } from '../dom.js';
import { t } from '../../i18n.js';

export const stopTracks = (stream) => stream?.getTracks().forEach((track) => track.stop());

/** Asks the browser for a microphone (and camera); null with `onError` told when refused. */
export async function askForMedia({ audio = true, video = false, onError }) {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio, video });
  } catch {
    onError(t('media.no_device'));
    return null;
  }
}

/** A labelled select of the devices of one kind; `onPick` gets the chosen device id. */
export function devicePicker(kind, label, onPick) {
  const id = nextId(kind);
  const select = h('select', { id, disabled: true, onchange: () => onPick(select.value) });
  return {
    el: h('div', { class: 'field' }, h('label', { for: id }, label), select),
    async refresh(currentId) {
      const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === kind);
      select.replaceChildren(...devices.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === currentId }, d.label || t('media.device_n', { n: i + 1 }))));
      select.disabled = devices.length < 2;
    },
  };
}

/** A <video> (or <audio>) element that plays a stream; muted for one's own preview. */
export function player(stream, { label, muted = false, audioOnly = false }) {
  const el = h(audioOnly ? 'audio' : 'video', { autoplay: true, playsinline: true, 'aria-label': label });
  el.muted = muted;
  el.srcObject = stream;
  return el;
}
