// The teacher's live panel: camera and microphone (with pickers and mutes) and screen share to
// the pupils at home, letting a pupil speak (their voice plays here, into the classroom), and
// a private call with one pupil; a second picture beside the teacher's (second-picture.js);
// pairing a classroom camera (a second device) by a one-time link.
import { h, replace, nextId } from '../dom.js';
import { announce } from '../announce.js';
import { t, errorText } from '../../i18n.js';
import { post } from '../../protocol/api.js';
import { askForMedia, cameraPickers, player, stopTracks } from './devices.js';
import { secondPicture, SECOND_KINDS } from './second-picture.js';

export function teacherStream({ media, lessonId, onError }) {
  let camera = null; // MediaStream sent as "camera"
  let screen = null;
  let people = [];
  const talking = new Map(); // participant id -> { video }
  let call = null; // { participant, video, stream }
  const remote = new Map(); // stream id -> element
  // While the classroom camera sends, pupils' voices play there instead of here (see below).
  let classroomLive = false;

  const status = h('p', { role: 'status', class: 'media-status' });
  const preview = h('div', { class: 'media-preview' });
  const incoming = h('div', { class: 'media-incoming' });
  const talkList = h('ul', { class: 'talkers', 'aria-labelledby': 'talk-h' });
  // Pupils let speak may also show themselves when this is on.
  const withCamera = h('input', { type: 'checkbox', id: 'talk-camera' });
  const grant = (participant) => media.send({ type: 'grant_talk', participant, video: withCamera.checked });
  const callBox = h('div', { class: 'call', hidden: true });

  const cameraButton = h('button', { type: 'button', class: 'primary', 'aria-pressed': 'false', onclick: () => (camera ? stopCamera() : startCamera()) }, t('media.camera_start'));
  const micButton = h('button', { type: 'button', disabled: true, 'aria-pressed': 'false', onclick: () => toggle('audio', micButton, 'media.mic_mute', 'media.mic_unmute') }, t('media.mic_mute'));
  const videoButton = h('button', { type: 'button', disabled: true, 'aria-pressed': 'false', onclick: () => toggle('video', videoButton, 'media.video_off', 'media.video_on') }, t('media.video_off'));
  const screenButton = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => (screen ? stopScreen() : startScreen()) }, t('media.screen_start'));

  const pickers = cameraPickers({ media, current: () => camera, onError, onSwapped: () => drawPreview() });
  const second = secondPicture({ media, onError });

  function toggle(kind, button, onKey, offKey) {
    const tracks = kind === 'audio' ? camera?.getAudioTracks() : camera?.getVideoTracks();
    if (!tracks?.length) return;
    const enabled = !tracks[0].enabled;
    tracks.forEach((track) => { track.enabled = enabled; });
    button.setAttribute('aria-pressed', String(!enabled));
    button.textContent = t(enabled ? onKey : offKey);
  }

  function drawPreview() {
    replace(preview,
      camera ? player(camera, { label: t('media.own_camera'), muted: true }) : null,
      screen ? player(screen, { label: t('media.own_screen'), muted: true }) : null);
  }

  async function startCamera() {
    camera = await askForMedia({ audio: true, video: true, onError });
    if (!camera) return;
    media.publish('camera', camera);
    cameraButton.textContent = t('media.camera_stop');
    cameraButton.setAttribute('aria-pressed', 'true');
    micButton.disabled = false;
    videoButton.disabled = false;
    status.textContent = t('media.live');
    drawPreview();
    await pickers.refresh(camera);
  }

  /** `replaced`: another device (the classroom camera) took over; the box already stopped us. */
  function stopCamera({ replaced = false } = {}) {
    if (!replaced) media.unpublish('camera');
    stopTracks(camera);
    camera = null;
    cameraButton.textContent = t('media.camera_start');
    cameraButton.setAttribute('aria-pressed', 'false');
    micButton.disabled = true;
    videoButton.disabled = true;
    status.textContent = t(replaced ? 'media.replaced' : 'media.not_live');
    drawPreview();
  }

  // The classroom camera: a link (and QR code) for a second device, and whether it sends.
  const classroomStatus = h('p', { role: 'status' }, t('media.classroom_camera_off'));
  const classroomLink = h('div', { class: 'camera-link', hidden: true });
  async function connectClassroomCamera() {
    let link;
    try {
      link = await post(`/lessons/${encodeURIComponent(lessonId)}/camera`);
    } catch (failure) {
      onError(errorText(failure));
      return;
    }
    // The box's own QR code (SVG made from the link), put in as an element, not as markup.
    const svg = new DOMParser().parseFromString(link.qr_svg, 'image/svg+xml').documentElement;
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', t('media.classroom_camera_code'));
    const field = nextId('camera-url');
    classroomLink.replaceChildren(
      h('p', {}, t('media.classroom_camera_hint')),
      h('div', { class: 'field' },
        h('label', { for: field }, t('media.classroom_camera_title')),
        h('input', { id: field, type: 'text', readonly: true, value: link.url, class: 'camera-url', onfocus: (e) => e.target.select() })),
      document.importNode(svg, true));
    classroomLink.hidden = false;
  }

  async function startScreen() {
    try {
      screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch {
      onError(t('media.no_screen'));
      return;
    }
    // The browser's own "stop sharing" bar ends the track.
    screen.getVideoTracks()[0]?.addEventListener('ended', () => stopScreen());
    media.publish('screen', screen);
    screenButton.textContent = t('media.screen_stop');
    screenButton.setAttribute('aria-pressed', 'true');
    drawPreview();
  }

  function stopScreen() {
    if (!screen) return;
    media.unpublish('screen');
    stopTracks(screen);
    screen = null;
    screenButton.textContent = t('media.screen_start');
    screenButton.setAttribute('aria-pressed', 'false');
    drawPreview();
  }

  const nameOf = (id) => people.find((p) => p.id === id)?.name ?? t('media.someone');

  function drawTalkers() {
    const online = people.filter((p) => p.online);
    talkList.replaceChildren(...online.map((p) => {
      const granted = talking.has(p.id);
      return h('li', { 'data-participant': p.id },
        h('span', { class: 'name' }, p.name),
        p.at_home ? h('span', { class: 'badge home' }, t('lesson.at_home')) : null,
        h('button', { type: 'button', class: 'small', 'aria-pressed': String(granted), onclick: () => (granted
          ? media.send({ type: 'revoke_talk', participant: p.id })
          : grant(p.id)) }, t(granted ? 'media.talk_stop_named' : 'media.talk_let_named', { name: p.name })),
        h('button', { type: 'button', class: 'small', disabled: Boolean(call), onclick: () => startCall(p.id) }, t('media.call_named', { name: p.name })));
    }));
    if (!online.length) talkList.replaceChildren(h('li', {}, t('media.nobody_online')));
  }

  async function startCall(participant) {
    if (call) return;
    media.send({ type: 'start_call', participant, video: false });
    const stream = await askForMedia({ audio: true, onError });
    if (!stream) return;
    call = { participant, stream };
    media.publish('call', stream);
    media.watch('call');
    drawCall();
  }

  function endCall(tell) {
    if (tell) media.send({ type: 'hang_up' });
    if (!call) return;
    media.unpublish('call');
    media.unwatch('call');
    dropRemote('call.');
    stopTracks(call.stream);
    call = null;
    drawCall();
  }

  function drawCall() {
    callBox.hidden = !call;
    callBox.replaceChildren(...(call ? [
      h('p', {}, t('media.in_call_with', { name: nameOf(call.participant) })),
      h('button', { type: 'button', class: 'danger', onclick: () => endCall(true) }, t('media.hang_up'))] : []));
    drawTalkers();
  }

  function dropRemote(prefix) {
    for (const [id, el] of remote) {
      if (!id.startsWith(prefix)) continue;
      el.remove();
      remote.delete(id);
    }
  }

  function onTrack(track, stream) {
    const id = stream?.id ?? '';
    const before = remote.get(id);
    // A picture that joins the voice later turns its <audio> into a <video>.
    if (before && (track.kind === 'audio' || before.tagName === 'VIDEO')) return;
    const [kind, who] = id.split('.');
    const name = nameOf(who);
    const label = kind === 'call' ? t('media.call_audio', { name }) : t('media.talk_audio', { name });
    const el = player(stream, { label, audioOnly: !stream.getVideoTracks().length });
    el.muted = kind === 'talk' && classroomLive;
    remote.set(id, el);
    if (before) before.replaceWith(el);
    else incoming.append(el);
    stream.addEventListener('removetrack', () => {
      if (stream.getTracks().length) return;
      el.remove();
      remote.delete(id);
    });
  }

  return {
    el: h('section', { class: 'media-panel', 'aria-labelledby': 'stream-h' },
      h('h2', { id: 'stream-h' }, t('media.teacher_title')),
      h('p', { class: 'hint' }, t('media.teacher_hint')),
      h('div', { class: 'media-controls' }, cameraButton, micButton, videoButton, screenButton),
      pickers.el,
      status,
      preview,
      second.el,
      h('h3', {}, t('media.classroom_camera_title')),
      classroomStatus,
      h('p', { class: 'hint' }, t('media.classroom_camera_voices')),
      h('button', { type: 'button', onclick: connectClassroomCamera }, t('media.classroom_camera_connect')),
      classroomLink,
      h('h3', { id: 'talk-h' }, t('media.talk_title')),
      h('div', { class: 'check' }, withCamera, h('label', { for: 'talk-camera' }, t('media.talk_with_camera'))),
      talkList,
      callBox,
      incoming),
    onTrack,
    letSpeak: grant,
    call: (participant) => startCall(participant),
    setPeople(list) {
      people = list;
      drawTalkers();
    },
    /** Media messages about people (talk grants, calls) and the classroom camera; the rest is
     * the media client's. */
    update(msg) {
      if (msg.type === 'media_talk') {
        if (msg.granted) {
          talking.set(msg.participant, { video: msg.video });
          media.watch('talk');
          announce(t('media.talk_granted_named', { name: nameOf(msg.participant) }));
        } else {
          talking.delete(msg.participant);
          dropRemote(`talk.${msg.participant}`);
          if (!talking.size) media.unwatch('talk');
        }
        drawTalkers();
      }
      if (msg.type === 'media_call' && !msg.active) {
        announce(t('media.call_ended'));
        endCall(false);
      }
      if (msg.type === 'media_closed' && msg.peer === 'camera' && msg.reason === 'replaced') {
        stopCamera({ replaced: true });
      }
      if (msg.type === 'media_closed' && SECOND_KINDS.includes(msg.peer) && msg.reason !== 'failed') {
        second.closed(msg.peer);
      }
      if (msg.type === 'classroom_camera') {
        classroomLive = msg.live;
        classroomStatus.textContent = t(msg.live ? 'media.classroom_camera_live' : 'media.classroom_camera_off');
        // The link is used up once the camera sends.
        if (msg.live) classroomLink.hidden = true;
        // Its microphone hears the room, and only its own echo canceller knows what it plays:
        // pupils' voices play on the camera device, not twice and not from here.
        for (const [id, el] of remote) if (id.startsWith('talk.')) el.muted = classroomLive;
      }
    },
    stop() {
      stopTracks(camera);
      stopTracks(screen);
      second.stop();
      if (call) stopTracks(call.stream);
    },
  };
}
