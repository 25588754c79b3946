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

/**
 * The browser's devices of `kind` (`videoinput`, `audioinput`) as <option>s, `chosenId`
 * selected; none before the browser names any (until a first start).
 */
export async function deviceOptions(kind, chosenId) {
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === kind && d.deviceId);
  return devices.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === chosenId }, d.label || t('media.device_n', { n: i + 1 })));
}

/** A labelled select of the devices of one kind; `onPick` gets the chosen device id. */
function devicePicker(kind, label, onPick) {
  const id = nextId(kind);
  const select = h('select', { id, disabled: true, onchange: () => onPick(select.value) },
    h('option', { value: '' }, t('media.device_after_start')));
  return {
    el: h('div', { class: 'field' }, h('label', { for: id }, label), select),
    async refresh(currentId) {
      const options = await deviceOptions(kind, currentId);
      // Before the first start the browser names no device: say when the choice comes, rather
      // than show an empty menu.
      if (!options.length) {
        select.replaceChildren(h('option', { value: '' }, t('media.device_after_start')));
        select.disabled = true;
        return;
      }
      select.replaceChildren(...options);
      select.disabled = options.length < 2;
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

// A picture that has not moved for this long is not getting through.
const STALL_MS = 6000;

/**
 * A received stream in a frame that never leaves the viewer with a silent black box: where
 * the browser blocks playing without a click, a button starts it; a picture that does not
 * arrive (or stops) is said in words. `el` is the frame, `media` the <video>.
 */
export function watchedPlayer(stream, { label, source }) {
  const media = player(stream, { label });
  // Started by play() below, whose refusal is what tells us to offer the button.
  media.autoplay = false;
  const start = h('button', { type: 'button', class: 'primary', hidden: true, onclick: () => play() }, t('media.start_playing'));
  const notice = h('p', { class: 'notice', role: 'status', hidden: true });
  const el = h('div', { class: 'screen', 'data-source': source }, media, start, notice);

  function play() {
    media.play().then(() => { start.hidden = true; }, (error) => {
      if (error?.name !== 'NotAllowedError') return;
      start.hidden = false;
      notice.textContent = t('media.autoplay_blocked');
      notice.hidden = false;
    });
  }

  // Decoded frames, as the browser counts them: the same count for STALL_MS means no picture.
  const frames = () => media.getVideoPlaybackQuality?.().totalVideoFrames ?? (media.videoWidth ? 1 : 0);
  let seen = 0;
  let since = Date.now();
  let shown = false;
  const check = setInterval(() => {
    if (el.isConnected) shown = true;
    else if (shown) { clearInterval(check); return; }
    if (!start.hidden || !stream.getVideoTracks().length) return;
    const now = frames();
    if (now !== seen) { seen = now; since = Date.now(); }
    const stalled = Date.now() - since >= STALL_MS;
    if (stalled && notice.hidden) { notice.textContent = t('media.no_picture'); notice.hidden = false; }
    if (!stalled && !notice.hidden) notice.hidden = true;
  }, 1000);
  play();
  return { el, media };
}

/**
 * Camera and microphone pickers for the published `camera` stream: a choice swaps that device
 * in place, without renegotiating. `current()` is the MediaStream being sent, or null.
 */
export function cameraPickers({ media, current, onError, onSwapped }) {
  const swap = async (kind, deviceId) => {
    const sending = current();
    if (!sending) return;
    const fresh = await navigator.mediaDevices.getUserMedia({ [kind]: { deviceId: { exact: deviceId } } }).catch(() => null);
    if (!fresh) { onError(t('media.no_device')); return; }
    const [track] = kind === 'audio' ? fresh.getAudioTracks() : fresh.getVideoTracks();
    const [old] = kind === 'audio' ? sending.getAudioTracks() : sending.getVideoTracks();
    await media.replaceTrack('camera', old, track);
    old?.stop();
    onSwapped();
  };
  const cameraPicker = devicePicker('videoinput', t('media.pick_camera'), (id) => swap('video', id));
  const micPicker = devicePicker('audioinput', t('media.pick_mic'), (id) => swap('audio', id));
  return {
    el: h('div', { class: 'media-pickers' }, cameraPicker.el, micPicker.el),
    /** Lists the devices, the ones `stream` uses chosen. */
    async refresh(stream) {
      await cameraPicker.refresh(stream.getVideoTracks()[0]?.getSettings().deviceId);
      await micPicker.refresh(stream.getAudioTracks()[0]?.getSettings().deviceId);
    },
  };
}
