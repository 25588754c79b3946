// The pupil's live pane: the teacher's camera and screen (side by side or one of them, with
// volume) and a second picture pinned beside them (an interpreter, a document camera),
// speaking when the teacher lets them, and answering a private call. Pupils at home receive
// the lesson at once; pupils in the room only when they ask.
import { h, nextId, replace } from '../dom.js';
import { announce } from '../announce.js';
import { t } from '../../i18n.js';
import { askForMedia, player, stopTracks, watchedPlayer } from './devices.js';
import { SECOND_KINDS } from './second-picture.js';

export function pupilStream({ media, atHome, onError }) {
  let watching = false;
  let grant = null; // { video } while the teacher lets this pupil speak
  let talk = null; // MediaStream sent as "talk"
  let call = null; // { video, stream, answered }
  // Keyed by stream id (`camera.teacher`, `camera.classroom`, `screen.teacher`): when the
  // classroom camera takes over, its picture may arrive before the teacher's leaves. Each is
  // `{ el, media }` from watchedPlayer.
  const screens = new Map();
  let layout = 'both';

  const waiting = h('p', { class: 'placeholder' }, t('media.waiting'));
  const stage = h('div', { class: 'media-stage', 'data-layout': layout });
  const volumeId = nextId('volume');
  const volume = h('input', { id: volumeId, type: 'range', min: '0', max: '1', step: '0.05', value: '1', oninput: () => setVolume() });
  // Captions go here when a captioning service on the box supplies them.
  const captions = h('div', { class: 'captions', hidden: true, 'aria-live': 'polite' });
  const layoutButtons = ['both', 'camera', 'screen'].map((name) => h('button', {
    type: 'button', class: 'small', 'aria-pressed': String(name === layout),
    onclick: () => setLayout(name),
  }, t(`media.layout_${name}`)));
  // Layout and volume only once there is something to see and hear.
  const viewerControls = h('div', { hidden: true },
    h('div', { class: 'media-controls', role: 'group', 'aria-label': t('media.layout') }, ...layoutButtons),
    h('div', { class: 'field' }, h('label', { for: volumeId }, t('media.volume')), volume));
  const viewer = h('div', { class: 'media-viewer', hidden: true }, viewerControls, waiting, stage, captions);
  const watchButton = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => (watching ? stopWatching() : startWatching()) }, t('media.watch_start'));
  const talkBox = h('div', { class: 'talk', hidden: true });
  const callBox = h('div', { class: 'call', hidden: true, role: 'region', 'aria-label': t('media.call_title') });
  const callMedia = h('div', {});

  function setVolume() {
    for (const { media } of screens.values()) media.volume = Number(volume.value);
  }

  function setLayout(name) {
    layout = name;
    stage.dataset.layout = name;
    layoutButtons.forEach((b, i) => b.setAttribute('aria-pressed', String(['both', 'camera', 'screen'][i] === name)));
  }

  function startWatching() {
    watching = true;
    media.watch('lesson');
    viewer.hidden = false;
    watchButton.textContent = t('media.watch_stop');
    watchButton.setAttribute('aria-pressed', 'true');
  }

  function stopWatching() {
    watching = false;
    media.unwatch('lesson');
    viewer.hidden = true;
    stage.replaceChildren();
    screens.clear();
    waiting.hidden = false;
    viewerControls.hidden = true;
    watchButton.textContent = t('media.watch_start');
    watchButton.setAttribute('aria-pressed', 'false');
  }

  function onTrack(track, stream) {
    const id = stream?.id ?? '';
    const [kind, owner] = id.split('.');
    if (kind === 'call') {
      if (!callMedia.childElementCount) callMedia.append(player(stream, { label: t('media.call_teacher'), audioOnly: !call?.video }));
      return;
    }
    if (screens.has(id) || !['camera', 'screen', ...SECOND_KINDS].includes(kind)) return;
    // A second picture (an interpreter, a document camera) is pinned beside the camera: no
    // layout hides it.
    const second = SECOND_KINDS.includes(kind);
    const label = second ? `media.second_${kind}`
      : owner === 'classroom' ? 'media.classroom_camera_title' : `media.teacher_${kind}`;
    const screen = watchedPlayer(stream, { label: t(label), source: kind });
    if (second) screen.el.prepend(h('p', { class: 'screen-label' }, t(label)));
    screen.media.volume = Number(volume.value);
    screens.set(id, screen);
    stage.append(screen.el);
    waiting.hidden = true;
    viewerControls.hidden = false;
    announce(t('media.stream_started'));
    stream.addEventListener('removetrack', () => {
      if (stream.getTracks().length) return;
      screen.el.remove();
      screens.delete(id);
      waiting.hidden = screens.size > 0;
      viewerControls.hidden = screens.size === 0;
    });
  }

  function drawTalk() {
    talkBox.hidden = !grant;
    if (!grant) { talkBox.replaceChildren(); return; }
    talkBox.replaceChildren(
      h('p', { class: 'notice' }, t(talk ? 'media.talk_on' : 'media.talk_granted')),
      talk
        ? h('button', { type: 'button', class: 'danger', onclick: stopTalking }, t('media.talk_stop'))
        : h('button', { type: 'button', class: 'primary', onclick: startTalking }, t('media.talk_start')));
  }

  async function startTalking() {
    talk = await askForMedia({ audio: true, video: grant?.video ?? false, onError });
    if (!talk) return;
    media.publish('talk', talk);
    drawTalk();
  }

  function stopTalking() {
    media.unpublish('talk');
    stopTracks(talk);
    talk = null;
    drawTalk();
  }

  function drawCall() {
    callBox.hidden = !call;
    if (!call) { callBox.replaceChildren(); callMedia.replaceChildren(); return; }
    replace(callBox,
      h('p', { role: 'alert' }, t(call.answered ? 'media.in_call' : 'media.calling')),
      call.answered ? null : h('button', { type: 'button', class: 'primary', onclick: answerCall }, t('media.answer')),
      h('button', { type: 'button', class: 'danger', onclick: () => media.send({ type: 'hang_up' }) }, t(call.answered ? 'media.hang_up' : 'media.decline')),
      callMedia);
  }

  async function answerCall() {
    const stream = await askForMedia({ audio: true, video: call?.video ?? false, onError });
    if (!stream || !call) { stopTracks(stream); return; }
    call.stream = stream;
    call.answered = true;
    media.publish('call', stream);
    media.watch('call');
    drawCall();
  }

  function endCall() {
    if (!call) return;
    if (call.answered) {
      media.unpublish('call');
      media.unwatch('call');
    }
    stopTracks(call.stream);
    call = null;
    drawCall();
  }

  if (atHome) startWatching();

  return {
    el: h('div', { class: 'pupil-stream' },
      atHome ? null : h('p', {}, t('media.in_room_hint')),
      atHome ? null : watchButton,
      viewer, talkBox, callBox),
    onTrack,
    update(msg) {
      if (msg.type === 'media_talk') {
        grant = msg.granted ? { video: msg.video } : null;
        if (!grant && talk) { stopTracks(talk); talk = null; }
        announce(t(msg.granted ? 'media.talk_granted' : 'media.talk_ended'));
        drawTalk();
      }
      if (msg.type === 'media_call') {
        if (msg.active) {
          call = { video: msg.video, stream: null, answered: false };
          drawCall();
        } else {
          announce(t('media.call_ended'));
          endCall();
        }
      }
    },
    stop() {
      stopTracks(talk);
      if (call) stopTracks(call.stream);
    },
  };
}
