// The classroom camera: a second device (a phone on a stand, the classroom PC) opened with the
// teacher's one-time link /camera#<token>. It signs in as the lesson's camera and sends
// picture and sound to the pupils at home. It plays the voice of a pupil the teacher lets
// speak, since its microphone is the one hearing the room (its echo canceller must know what
// it plays); it sees no pupil list, message or document.
import { h, formMessage } from '../dom.js';
import { heading } from '../shell.js';
import { announce } from '../announce.js';
import { t, errorText } from '../../i18n.js';
import { post } from '../../protocol/api.js';
import { connectLive } from '../../protocol/live.js';
import { mediaClient } from '../../protocol/media.js';
import { askForMedia, cameraPickers, player, stopTracks } from '../media/devices.js';

export async function cameraView({ main, me, refreshMe, setTitle }) {
  setTitle(t('camera.title'));
  const token = decodeURIComponent(location.hash.slice(1));
  const message = formMessage();
  let stop = null; // set once this device is the camera
  main.append(heading(t('camera.title')));
  if (token) {
    const pair = async () => {
      message.show('');
      try {
        await post('/camera', { token });
      } catch (failure) {
        message.show(errorText(failure));
        return;
      }
      // The link is used up: keep it out of the address bar and history.
      history.replaceState(null, '', '/camera');
      form.remove();
      camera(await refreshMe(), true);
    };
    const form = h('form', { onsubmit: (e) => { e.preventDefault(); pair(); } },
      h('p', {}, t('camera.intro')),
      me.role === 'nobody' ? null : h('p', { class: 'hint' }, t('camera.signed_in_note')),
      message.el,
      h('button', { type: 'submit', class: 'primary' }, t('camera.use')));
    main.append(form);
    return () => stop?.();
  }
  if (me.role !== 'camera') {
    main.append(h('p', { role: 'alert' }, t('camera.no_link')));
    return undefined;
  }
  camera(me, false);
  return () => stop?.();

  /** The sending page, once this device is the camera; `startNow` right after pairing. */
  function camera(who, startNow) {
    let sending = null; // MediaStream
    let wakeLock = null;
    const status = h('p', { role: 'status', class: 'media-status' }, t('camera.stopped'));
    const preview = h('div', { class: 'media-preview' });
    const voices = h('div', { class: 'media-incoming' });
    const media = mediaClient({ onTrack: play, onRefused: () => message.show(t('media.refused')) });
    const pickers = cameraPickers({ media, current: () => sending, onError: (text) => message.show(text), onSwapped: () => show() });
    const button = h('button', { type: 'button', class: 'primary', 'aria-pressed': 'false', onclick: () => (sending ? halt('camera.stopped') : start()) }, t('camera.start'));

    /** A pupil let speak: their voice (the picture, if any, is for the teacher's page). */
    function play(track, stream) {
      if (track.kind !== 'audio') return;
      const el = player(stream, { label: t('camera.pupil_speaking'), audioOnly: true });
      voices.append(el);
      stream.addEventListener('removetrack', () => { if (!stream.getAudioTracks().length) el.remove(); });
    }

    function show() {
      preview.replaceChildren(...(sending ? [player(sending, { label: t('camera.preview'), muted: true })] : []));
      button.textContent = t(sending ? 'camera.stop' : 'camera.start');
      button.setAttribute('aria-pressed', String(Boolean(sending)));
    }

    async function start() {
      sending = await askForMedia({ audio: true, video: true, onError: (text) => message.show(text) });
      if (!sending) return;
      media.publish('camera', sending);
      media.watch('talk');
      status.textContent = t('camera.live');
      show();
      // A phone on a stand must not go to sleep mid-lesson.
      wakeLock = await navigator.wakeLock?.request('screen').catch(() => null);
      await pickers.refresh(sending);
    }

    /** Stops sending; `tell` unless the box already stopped us. */
    function halt(reason, tell = true) {
      if (tell) media.unpublish('camera');
      media.unwatch('talk');
      stopTracks(sending);
      sending = null;
      wakeLock?.release().catch(() => {});
      wakeLock = null;
      status.textContent = t(reason);
      announce(t(reason));
      show();
    }

    const live = connectLive({
      onOpen: (send) => media.opened(send),
      onMessage: (msg) => {
        if (msg.type === 'media_closed' && msg.peer === 'camera' && msg.reason === 'replaced') halt('camera.replaced', false);
        if (media.handle(msg)) return;
        if (msg.type === 'lesson_ended') {
          halt('camera.ended', false);
          button.disabled = true;
        }
      },
      onState: (state) => {
        if (state === 'reconnecting') status.textContent = t('live.reconnecting');
        if (state === 'online') status.textContent = t(sending ? 'camera.live' : 'camera.stopped');
      },
    });
    stop = () => {
      live.close();
      media.close();
      stopTracks(sending);
      wakeLock?.release().catch(() => {});
    };

    main.append(
      h('p', {}, t('camera.lesson', { name: who.lesson?.class_name ?? '' })),
      h('p', { class: 'hint' }, t('camera.keep_open')),
      message.el,
      h('div', { class: 'media-controls' }, button),
      pickers.el,
      status,
      preview,
      voices);
    if (startNow) start();
  }
}
