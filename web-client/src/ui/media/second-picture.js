// A second picture beside the teacher's for pupils at home: a sign-language interpreter's
// camera or a document camera, from another camera on the teacher's device. Video only; the
// teacher chooses what it is, and pupils see it pinned beside the lesson's camera.
import { h, nextId } from '../dom.js';
import { announce } from '../announce.js';
import { t } from '../../i18n.js';
import { deviceOptions, player, stopTracks } from './devices.js';

/** The stream names the box knows for a second picture (docs/PROTOCOL.md). */
export const SECOND_KINDS = ['interpreter', 'document_camera'];

export function secondPicture({ media, onError }) {
  let sending = null; // { kind, stream }
  const kindId = nextId('second-kind');
  const kind = h('select', { id: kindId, onchange: () => switchKind() },
    SECOND_KINDS.map((k) => h('option', { value: k }, t(`media.second_${k}`))));
  const cameraId = nextId('second-camera');
  const camera = h('select', { id: cameraId, onfocus: () => listCameras() },
    h('option', { value: '' }, t('media.second_any_camera')));
  const button = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => (sending ? stop() : start()) }, t('media.second_start'));
  const status = h('p', { role: 'status' });
  const preview = h('div', { class: 'media-preview' });

  async function listCameras() {
    camera.replaceChildren(h('option', { value: '' }, t('media.second_any_camera')),
      ...await deviceOptions('videoinput', camera.value));
  }

  async function start() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: false, video: camera.value ? { deviceId: { exact: camera.value } } : true });
    } catch {
      onError(t('media.no_device'));
      return;
    }
    sending = { kind: kind.value, stream };
    media.publish(sending.kind, stream);
    draw();
    await listCameras();
  }

  function stop() {
    if (!sending) return;
    media.unpublish(sending.kind);
    stopTracks(sending.stream);
    sending = null;
    draw();
  }

  /** What the picture is changed while it is sent: pupils see it under its new name. */
  function switchKind() {
    if (!sending || sending.kind === kind.value) return;
    media.unpublish(sending.kind);
    sending.kind = kind.value;
    media.publish(sending.kind, sending.stream);
    draw();
  }

  function draw() {
    button.textContent = t(sending ? 'media.second_stop' : 'media.second_start');
    button.setAttribute('aria-pressed', String(Boolean(sending)));
    const text = sending ? t('media.second_live', { kind: t(`media.second_${sending.kind}`) }) : '';
    status.textContent = text;
    if (text) announce(text);
    preview.replaceChildren(...(sending ? [player(sending.stream, { label: t('media.second_preview'), muted: true })] : []));
  }

  return {
    el: h('div', { class: 'second-picture', role: 'group', 'aria-labelledby': `${kindId}-h` },
      h('h3', { id: `${kindId}-h` }, t('media.second_title')),
      h('p', { class: 'hint' }, t('media.second_hint')),
      h('div', { class: 'media-pickers' },
        h('div', { class: 'field' }, h('label', { for: kindId }, t('media.second_kind')), kind),
        h('div', { class: 'field' }, h('label', { for: cameraId }, t('media.second_camera')), camera)),
      button, status, preview),
    /** The box closed it (another tab took over, or the lesson ended). */
    closed(stream) {
      if (sending?.kind !== stream) return;
      stopTracks(sending.stream);
      sending = null;
      draw();
    },
    stop: () => stopTracks(sending?.stream),
  };
}
