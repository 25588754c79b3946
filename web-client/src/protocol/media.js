// Live audio and video with the box as forwarding unit (SFU). Signaling rides on /ws (see
// docs/PROTOCOL.md): the page offers what it publishes (one peer connection per stream:
// camera, screen, talk, call) and answers the box's offers on one receiving connection
// ("watch"). The box is ICE-lite and puts its address in its SDP, so no candidates are sent.
// A peer that fails, or a /ws that reconnects, is set up again by itself.

const RETRY_MS = 1000;
// The camera goes out in three sizes; the box gives each viewer the one its connection
// carries (a pupil at home on a weak line gets the smallest instead of a frozen picture).
const SIMULCAST = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: 'f', maxBitrate: 1500000 },
];

export function mediaClient({ onTrack, onRefused }) {
  let send = () => false;
  // Until /ws first opens, requests are only remembered; `opened` carries them out.
  let connected = false;
  const publishers = new Map(); // stream -> { pc, mediaStream }
  let watcher = null; // RTCPeerConnection
  const sources = new Set();
  // Messages are handled one after another: an answer must not overtake its offer.
  let queue = Promise.resolve();

  const peer = (name) => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') setTimeout(() => restart(name, pc), RETRY_MS);
    });
    return pc;
  };

  async function offerToPublish(stream) {
    const entry = publishers.get(stream);
    if (!entry) return;
    entry.pc?.close();
    const pc = peer(stream);
    entry.pc = pc;
    for (const track of entry.mediaStream.getTracks()) {
      const layers = stream === 'camera' && track.kind === 'video' ? { sendEncodings: SIMULCAST } : {};
      pc.addTransceiver(track, { direction: 'sendonly', streams: [entry.mediaStream], ...layers });
    }
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: 'media_publish', stream, sdp: pc.localDescription.sdp });
  }

  function openWatcher() {
    watcher?.close();
    watcher = peer('watch');
    watcher.addEventListener('track', (event) => onTrack(event.track, event.streams[0]));
    send({ type: 'media_watch', sources: [...sources] });
  }

  function restart(name, failed) {
    if (name === 'watch') {
      if (watcher === failed && sources.size) openWatcher();
    } else if (publishers.get(name)?.pc === failed) {
      offerToPublish(name);
    }
  }

  async function handle(msg) {
    switch (msg.type) {
      case 'media_answer': {
        const pc = publishers.get(msg.stream)?.pc;
        if (pc?.signalingState === 'have-local-offer') await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
        break;
      }
      case 'media_offer': {
        if (!watcher) break;
        await watcher.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
        await watcher.setLocalDescription(await watcher.createAnswer());
        send({ type: 'media_answer', sdp: watcher.localDescription.sdp });
        break;
      }
      case 'media_closed': {
        const failed = msg.reason === 'failed';
        if (msg.peer === 'watch') {
          const pc = watcher;
          if (failed) setTimeout(() => restart('watch', pc), RETRY_MS);
          else { watcher?.close(); watcher = null; }
        } else {
          const pc = publishers.get(msg.peer)?.pc;
          if (failed) setTimeout(() => restart(msg.peer, pc), RETRY_MS);
          else forget(msg.peer);
        }
        break;
      }
      case 'media_refused':
        if (msg.peer && msg.peer !== 'watch') forget(msg.peer);
        onRefused?.(msg);
        break;
      default:
    }
  }

  // Tracks stop here only when the page gives them up; a closed peer is not a closed camera.
  function forget(stream) {
    const entry = publishers.get(stream);
    if (!entry) return;
    entry.pc?.close();
    publishers.delete(stream);
  }

  return {
    /** Called with the socket's `send` each time /ws (re)opens: sets everything up again. */
    opened(sendFn) {
      send = sendFn;
      connected = true;
      for (const stream of publishers.keys()) offerToPublish(stream);
      if (sources.size) openWatcher();
    },
    /** Takes a media message off /ws; false for other messages. */
    handle(msg) {
      if (!msg.type?.startsWith('media_')) return false;
      queue = queue.then(() => handle(msg)).catch(() => {});
      return true;
    },
    publish(stream, mediaStream) {
      publishers.set(stream, { pc: null, mediaStream });
      if (connected) queue = queue.then(() => offerToPublish(stream)).catch(() => {});
    },
    unpublish(stream) {
      if (!publishers.has(stream)) return;
      forget(stream);
      send({ type: 'media_unpublish', stream });
    },
    /** Swaps a device without renegotiating (the box forwards whatever arrives). */
    async replaceTrack(stream, oldTrack, newTrack) {
      const entry = publishers.get(stream);
      if (!entry) return;
      entry.mediaStream.removeTrack(oldTrack);
      entry.mediaStream.addTrack(newTrack);
      const sender = entry.pc?.getSenders().find((s) => s.track === oldTrack);
      await sender?.replaceTrack(newTrack);
    },
    watch(source) {
      if (sources.has(source)) return;
      sources.add(source);
      if (!connected) return;
      if (!watcher) openWatcher();
      else send({ type: 'media_watch', sources: [...sources] });
    },
    unwatch(source) {
      if (!sources.delete(source)) return;
      if (sources.size) {
        send({ type: 'media_watch', sources: [...sources] });
        return;
      }
      watcher?.close();
      watcher = null;
      send({ type: 'media_unwatch' });
    },
    send: (message) => send(message),
    close() {
      for (const stream of [...publishers.keys()]) forget(stream);
      watcher?.close();
      watcher = null;
    },
  };
}
