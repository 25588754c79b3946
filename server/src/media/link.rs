//! One client connection's media: the peer connections it publishes on (one per [`Stream`]),
//! the one it receives on ("watch"), and the signaling between them and `/ws`.
//!
//! It keeps per-connection state and does the mechanics; whether a request is allowed is
//! decided before it gets here, by `service::media` (which asks `auth::can`).
//!
//! Publishing: the browser offers, the box answers. Receiving: the box offers whenever the
//! tracks the client may receive change, and the browser answers. The box is ICE-lite with
//! its candidates in every SDP it sends, so browsers need not send theirs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::signaling_state::RTCSignalingState;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtp_transceiver::rtp_sender::RTCRtpSender;
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::rtp_transceiver::RTCRtpTransceiverInit;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::TrackLocal;

use super::forward::{
    down_track, forward, forward_layer, pick_layers, relay_keyframe_requests, Source,
};
use super::keyframes::Keyframes;
use super::stage::{Allowed, Call, ConnId, NewTrack, Receivable, Refusal, Stage, StageEvent};
use super::{offer, Counted, Gauge, Media, MediaCounts, Stream, WatchSource};
use crate::auth::Who;
use crate::ids::{LessonId, ParticipantId, TeacherId};
use crate::protocol::ServerMessage;

/// The receiving peer connection's name in messages.
const WATCH: &str = "watch";

/// A peer connection, counted in the lesson's and the box's peers while open.
struct Peer {
    /// Tells this peer's failure from that of one it replaced.
    number: u64,
    pc: Arc<RTCPeerConnection>,
    _counted: Counted,
}

/// Which peer connection broke: its name (a stream's or `watch`) and number.
type Broken = (&'static str, u64);

struct Watch {
    peer: Peer,
    wants: HashSet<WatchSource>,
    /// Track id → the sender carrying it to this client.
    senders: HashMap<String, Arc<RTCRtpSender>>,
    /// Tracks changed while an offer was out: offer again once it is answered.
    renegotiate: bool,
}

/// Something that happened for this connection, from [`MediaLink::next`].
pub enum Happening {
    Stage(Result<StageEvent, broadcast::error::RecvError>),
    /// A peer connection failed or the browser closed it: the network between box and
    /// browser broke, or the page went away without saying so.
    Failed(Broken),
}

pub struct MediaLink {
    media: Arc<Media>,
    stage: Arc<Stage>,
    conn: ConnId,
    who: Who,
    /// Whether this is the teacher who runs the lesson (decided when it opened).
    runs_lesson: bool,
    /// Which sources this connection may receive, as the service layer last decided.
    may_receive: Receivable,
    publishers: HashMap<Stream, Peer>,
    watch: Option<Watch>,
    events: broadcast::Receiver<StageEvent>,
    failed_tx: mpsc::UnboundedSender<Broken>,
    failed_rx: mpsc::UnboundedReceiver<Broken>,
    peers_opened: u64,
    /// Teachers: whether they were last told the classroom camera is live.
    told_camera_live: bool,
    /// A paired box's relay, counted in /metrics while open.
    relay: Option<Counted>,
}

/// A media request refused, with its code (docs/PROTOCOL.md).
pub fn refused(
    request: &'static str,
    peer: Option<&'static str>,
    code: &'static str,
    message: impl Into<String>,
) -> Vec<ServerMessage> {
    vec![ServerMessage::MediaRefused {
        request,
        peer,
        code,
        message: message.into(),
    }]
}

/// An SDP the stack could not use: the detail goes to the log, the client gets the code.
fn bad_sdp(
    request: &'static str,
    peer: Option<&'static str>,
    error: &webrtc::Error,
) -> Vec<ServerMessage> {
    tracing::debug!("SDP refused: {error}");
    refused(request, peer, "bad_sdp", "the SDP cannot be used")
}

/// A request the stage or the service refused.
pub fn refusal(
    request: &'static str,
    peer: Option<&'static str>,
    why: Refusal,
) -> Vec<ServerMessage> {
    match why {
        Refusal::Forbidden => refused(request, peer, "forbidden", "not allowed now"),
        Refusal::Full => refused(
            request,
            peer,
            "full",
            "the lesson has as many media connections as it may",
        ),
    }
}

impl MediaLink {
    /// A connection's media in the lesson (`runs_lesson`: it is the lesson's teacher's).
    pub fn new(
        media: Arc<Media>,
        lesson_id: &LessonId,
        lesson_teacher: &TeacherId,
        who: Who,
        runs_lesson: bool,
    ) -> Self {
        let stage = media.stage(lesson_id, lesson_teacher);
        let events = stage.subscribe();
        let (failed_tx, failed_rx) = mpsc::unbounded_channel();
        Self {
            conn: media.new_connection_id(),
            media,
            stage,
            who,
            runs_lesson,
            may_receive: Receivable::default(),
            publishers: HashMap::new(),
            watch: None,
            events,
            failed_tx,
            failed_rx,
            peers_opened: 0,
            told_camera_live: false,
            relay: None,
        }
    }

    /// Makes this the media of a paired box relaying the lesson to its own viewers: it may
    /// receive the lesson's source (the service checked that the lesson's class is shared with
    /// it, and withdraws the connection's grant when that ends).
    pub fn into_relay(mut self) -> Self {
        self.stage.admit_relay(self.conn);
        self.relay = Some(self.media.counts.count(Gauge::RelaysOut));
        self
    }

    /// Waits for the next thing to act on. Cancel-safe: nothing is lost if another branch of
    /// the caller's `select!` wins.
    pub async fn next(&mut self) -> Happening {
        tokio::select! {
            event = self.events.recv() => Happening::Stage(event),
            Some(peer) = self.failed_rx.recv() => Happening::Failed(peer),
        }
    }

    /// What this client should know on connecting: a talk-back grant or a call it is part of,
    /// and for teachers whether the classroom camera is live.
    pub fn current_state(&mut self) -> Vec<ServerMessage> {
        let mut out = Vec::new();
        if self.is_teacher() && self.stage.classroom_camera_live() {
            self.told_camera_live = true;
            out.push(ServerMessage::ClassroomCamera { live: true });
        }
        for (participant, video) in self.stage.talk_grants() {
            if self.hears_of(&participant) {
                out.push(ServerMessage::MediaTalk {
                    participant,
                    granted: true,
                    video,
                });
            }
        }
        if let Some(call) = self
            .stage
            .call()
            .filter(|c| c.includes(self.conn, &self.who))
        {
            out.push(call_message(&call, true));
        }
        out
    }

    /// Teachers: a word when the classroom camera goes live or stops.
    fn camera_news(&mut self) -> Vec<ServerMessage> {
        if !self.is_teacher() {
            return Vec::new();
        }
        let live = self.stage.classroom_camera_live();
        if live == self.told_camera_live {
            return Vec::new();
        }
        self.told_camera_live = live;
        vec![ServerMessage::ClassroomCamera { live }]
    }

    /// Teachers hear of every pupil's talk-back; a pupil only of their own.
    fn hears_of(&self, participant: &ParticipantId) -> bool {
        match &self.who {
            Who::Teacher { .. } => true,
            Who::Pupil(seat) => seat.participant_id == participant,
            Who::Camera { .. } | Who::Nobody | Who::PairedBox { .. } => false,
        }
    }

    /// The teacher who runs this lesson (not merely some teacher).
    fn is_teacher(&self) -> bool {
        self.runs_lesson
    }

    pub fn stage(&self) -> &Arc<Stage> {
        &self.stage
    }

    pub fn conn(&self) -> ConnId {
        self.conn
    }

    pub fn who(&self) -> &Who {
        &self.who
    }

    /// Acts on what happened, receiving what `may` allows now.
    pub async fn on(&mut self, happening: Happening, may: Receivable) -> Vec<ServerMessage> {
        self.may_receive = may;
        match happening {
            Happening::Failed((WATCH, number)) => {
                if self.watch.as_ref().is_some_and(|w| w.peer.number == number) {
                    self.stop_watching("failed").await
                } else {
                    Vec::new()
                }
            }
            Happening::Failed((name, number)) => {
                let broken = self
                    .publishers
                    .iter()
                    .find(|(s, p)| s.name() == name && p.number == number)
                    .map(|(&s, _)| s);
                match broken {
                    Some(stream) => self.stop_publishing(stream, "failed").await,
                    None => Vec::new(),
                }
            }
            Happening::Stage(Ok(event)) => self.on_event(event).await,
            // Missed some changes: catch up on all of them.
            Happening::Stage(Err(broadcast::error::RecvError::Lagged(_))) => {
                let mut out = self.current_state();
                // A camera that stopped while we lagged is not in the current state.
                out.extend(self.camera_news());
                out.extend(self.sync_watch().await);
                out
            }
            Happening::Stage(Err(broadcast::error::RecvError::Closed)) => Vec::new(),
        }
    }

    async fn on_event(&mut self, event: StageEvent) -> Vec<ServerMessage> {
        match event {
            StageEvent::Tracks => {
                let mut out = self.camera_news();
                out.extend(self.sync_watch().await);
                out
            }
            StageEvent::Talk {
                participant_id,
                granted,
                video,
            } => {
                if !self.hears_of(&participant_id) {
                    return Vec::new();
                }
                let mut out = vec![ServerMessage::MediaTalk {
                    participant: participant_id,
                    granted,
                    video,
                }];
                if !granted && matches!(self.who, Who::Pupil(_)) {
                    out.extend(self.stop_publishing(Stream::Talk, "revoked").await);
                }
                out
            }
            StageEvent::Call { call, active } => {
                if !call.includes(self.conn, &self.who) {
                    return Vec::new();
                }
                let mut out = vec![call_message(&call, active)];
                if !active {
                    out.extend(self.stop_publishing(Stream::Call, "ended").await);
                }
                out
            }
            StageEvent::Replaced { conn, stream } if conn == self.conn => {
                self.stop_publishing(stream, "replaced").await
            }
            StageEvent::Replaced { .. } => Vec::new(),
        }
    }

    async fn open_peer(&mut self, name: &'static str) -> Result<Peer, Vec<ServerMessage>> {
        let request = if name == WATCH {
            "media_watch"
        } else {
            "media_publish"
        };
        if let Err(why) = self.stage.peer_opened() {
            return Err(refusal(request, Some(name), why));
        }
        let pc = match self
            .media
            .engine
            .api
            .new_peer_connection(RTCConfiguration::default())
            .await
        {
            Ok(pc) => Arc::new(pc),
            Err(e) => {
                self.stage.peer_closed();
                tracing::error!("opening a peer connection failed: {e}");
                return Err(refused(
                    request,
                    Some(name),
                    "internal",
                    "media is not available",
                ));
            }
        };
        self.peers_opened += 1;
        let number = self.peers_opened;
        // Closed also when the box closes it; by then the peer is gone and the report finds
        // nothing to stop.
        report_broken(&pc, self.failed_tx.clone(), (name, number));
        Ok(Peer {
            number,
            pc,
            _counted: self.media.counts.count(Gauge::Peers),
        })
    }

    async fn close_peer(&self, peer: Peer) {
        if let Err(e) = peer.pc.close().await {
            tracing::debug!("closing a peer connection: {e}");
        }
        drop(peer);
        self.stage.peer_closed();
        self.media.peer_gone();
    }

    /// Publishes `stream` from the browser's offer, with the kinds `allowed` (decided by the
    /// service layer).
    pub async fn publish(
        &mut self,
        stream: Stream,
        sdp: String,
        allowed: Allowed,
    ) -> Vec<ServerMessage> {
        const REQUEST: &str = "media_publish";
        let peer_name = Some(stream.name());
        if let Err(bad) = offer::check(&sdp, allowed) {
            return refused(REQUEST, peer_name, bad.code, bad.message);
        }
        let description = match RTCSessionDescription::offer(sdp) {
            Ok(d) => d,
            Err(e) => return bad_sdp(REQUEST, peer_name, &e),
        };
        if !self.publishers.contains_key(&stream) {
            let peer = match self.open_peer(stream.name()).await {
                Ok(peer) => peer,
                Err(refusal) => return refusal,
            };
            self.forward_tracks_of(&peer.pc, stream, allowed);
            if stream.is_lesson_source() {
                self.stage.claim(stream, self.conn);
            }
            self.publishers.insert(stream, peer);
        }
        let pc = self.publishers[&stream].pc.clone();
        match answer_offer(&pc, description).await {
            Ok(sdp) => vec![ServerMessage::MediaAnswer { stream, sdp }],
            Err(e) => {
                let mut out = bad_sdp(REQUEST, peer_name, &e);
                out.extend(self.stop_publishing(stream, "failed").await);
                out
            }
        }
    }

    /// Puts every track the browser sends on this peer connection on the stage.
    fn forward_tracks_of(&self, pc: &Arc<RTCPeerConnection>, stream: Stream, allowed: Allowed) {
        let stage = self.stage.clone();
        let counts = self.media.counts.clone();
        let owner = self.who.clone();
        let owner_conn = self.conn;
        let publisher = Arc::downgrade(pc);
        pc.on_track(Box::new(move |remote, _receiver, _transceiver| {
            let stage = stage.clone();
            let counts = counts.clone();
            let owner = owner.clone();
            let publisher = publisher.clone();
            Box::pin(async move {
                let kind = remote.kind();
                // The offer was checked; a track of another kind would be a renegotiation
                // that slipped past it.
                if !allowed.kind(kind) {
                    return;
                }
                let video = kind == webrtc::rtp_transceiver::rtp_codec::RTPCodecType::Video;
                let keyframes = || Keyframes::new(publisher.clone(), remote.ssrc(), video);
                let new = NewTrack {
                    stream,
                    kind,
                    owner_conn,
                    owner,
                    keyframes: keyframes(),
                    counted: counts.count(Gauge::Tracks),
                    relayed_stream_id: None,
                };
                let codec = remote.codec().capability;
                let task = counts.count(Gauge::Tasks);
                let rid = remote.rid().to_string();
                if rid.is_empty() {
                    let track = stage.add_track(new, codec);
                    tokio::spawn(async move {
                        forward(remote, track, stage, counts, Source::Publisher).await;
                        drop(task);
                    });
                } else {
                    let (track, layer) = stage.add_layer(new, codec, &rid, keyframes());
                    tokio::spawn(async move {
                        forward_layer(remote, track, layer, stage, counts).await;
                        drop(task);
                    });
                }
            })
        }));
    }

    /// Stops publishing `stream` (the client asked, it failed, was replaced or revoked).
    pub async fn stop_publishing(
        &mut self,
        stream: Stream,
        reason: &'static str,
    ) -> Vec<ServerMessage> {
        let Some(peer) = self.publishers.remove(&stream) else {
            return Vec::new();
        };
        self.stage.withdraw(self.conn, stream);
        self.close_peer(peer).await;
        vec![ServerMessage::MediaClosed {
            peer: stream.name(),
            reason,
        }]
    }

    /// Receives `sources` (each of which `may` allows: the service layer checked).
    pub async fn watch(
        &mut self,
        sources: Vec<WatchSource>,
        may: Receivable,
    ) -> Vec<ServerMessage> {
        const REQUEST: &str = "media_watch";
        self.may_receive = may;
        if sources.is_empty() {
            return refused(REQUEST, Some(WATCH), "invalid", "name at least one source");
        }
        if self.watch.is_none() {
            let peer = match self.open_peer(WATCH).await {
                Ok(peer) => peer,
                Err(refusal) => return refusal,
            };
            self.watch = Some(Watch {
                peer,
                wants: HashSet::new(),
                senders: HashMap::new(),
                renegotiate: false,
            });
        }
        if let Some(watch) = &mut self.watch {
            watch.wants = sources.into_iter().collect();
        }
        self.sync_watch().await
    }

    /// Brings the receiving peer connection's tracks in line with what the client may and
    /// wants to receive now, and offers the change.
    async fn sync_watch(&mut self) -> Vec<ServerMessage> {
        let Some(watch) = &mut self.watch else {
            return Vec::new();
        };
        // A call that ended is no longer something to watch.
        let may = self.may_receive;
        watch.wants.retain(|&source| match source {
            WatchSource::Lesson => may.lesson,
            WatchSource::Talk => may.talk,
            WatchSource::Call => may.call,
        });
        self.stage
            .set_watching_lesson(self.conn, watch.wants.contains(&WatchSource::Lesson));
        let visible = self.stage.visible_to(self.conn, &watch.wants, may);
        let mut changed = false;
        let gone: Vec<String> = watch
            .senders
            .keys()
            .filter(|id| !visible.iter().any(|t| &t.id == *id))
            .cloned()
            .collect();
        for id in gone {
            if let Some(sender) = watch.senders.remove(&id) {
                if let Err(e) = watch.peer.pc.remove_track(&sender).await {
                    tracing::debug!("removing a track: {e}");
                }
                changed = true;
            }
        }
        for track in visible {
            if watch.senders.contains_key(&track.id) {
                continue;
            }
            let init = RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Sendonly,
                send_encodings: Vec::new(),
            };
            // A simulcast track gets a track of this subscriber's own, fed with its layer.
            let own = track.simulcast.is_some().then(|| {
                Arc::new(TrackLocalStaticRTP::new(
                    track.local.codec(),
                    track.local.id().to_string(),
                    track.local.stream_id().to_string(),
                ))
            });
            let local = own.clone().unwrap_or_else(|| track.local.clone());
            let transceiver = match watch
                .peer
                .pc
                .add_transceiver_from_track(local as Arc<dyn TrackLocal + Send + Sync>, Some(init))
                .await
            {
                Ok(t) => t,
                Err(e) => {
                    tracing::debug!("adding a track: {e}");
                    continue;
                }
            };
            let sender = transceiver.sender().await;
            let counts = &self.media.counts;
            match own {
                None => spawn_counted(
                    counts,
                    relay_keyframe_requests(sender.clone(), track.clone()),
                ),
                Some(own) => {
                    let (target_tx, target_rx) = tokio::sync::watch::channel(0);
                    spawn_counted(counts, down_track(track.clone(), own, target_rx));
                    spawn_counted(
                        counts,
                        pick_layers(sender.clone(), track.clone(), target_tx),
                    );
                }
            }
            watch.senders.insert(track.id.clone(), sender);
            changed = true;
        }
        if changed {
            self.offer_watch().await
        } else {
            Vec::new()
        }
    }

    async fn offer_watch(&mut self) -> Vec<ServerMessage> {
        let Some(watch) = &mut self.watch else {
            return Vec::new();
        };
        let pc = watch.peer.pc.clone();
        if pc.signaling_state() != RTCSignalingState::Stable {
            watch.renegotiate = true;
            return Vec::new();
        }
        match make_offer(&pc).await {
            Ok(sdp) => vec![ServerMessage::MediaOffer { sdp }],
            Err(e) => {
                tracing::warn!("offering media failed: {e}");
                let mut out = refused(
                    "media_watch",
                    Some(WATCH),
                    "internal",
                    "media is not available",
                );
                out.extend(self.stop_watching("failed").await);
                out
            }
        }
    }

    /// The client's answer to the box's last offer on the receiving peer connection.
    pub async fn answer(&mut self, sdp: String) -> Vec<ServerMessage> {
        const REQUEST: &str = "media_answer";
        let Some(watch) = &mut self.watch else {
            return refused(
                REQUEST,
                Some(WATCH),
                "unexpected",
                "no offer is waiting for an answer",
            );
        };
        let pc = watch.peer.pc.clone();
        if pc.signaling_state() != RTCSignalingState::HaveLocalOffer {
            return refused(
                REQUEST,
                Some(WATCH),
                "unexpected",
                "no offer is waiting for an answer",
            );
        }
        let applied = match RTCSessionDescription::answer(sdp) {
            Ok(description) => pc.set_remote_description(description).await,
            Err(e) => Err(e),
        };
        if let Err(e) = applied {
            let mut out = bad_sdp(REQUEST, Some(WATCH), &e);
            out.extend(self.stop_watching("failed").await);
            return out;
        }
        // New receivers start with a keyframe rather than waiting for the next one.
        let tracks: Vec<_> = self
            .stage
            .visible_to(self.conn, &watch.wants, self.may_receive)
            .into_iter()
            .filter(|t| watch.senders.contains_key(&t.id))
            .collect();
        for track in tracks {
            track.request_keyframe().await;
        }
        if std::mem::take(&mut watch.renegotiate) {
            return self.offer_watch().await;
        }
        Vec::new()
    }

    /// Stops receiving.
    pub async fn stop_watching(&mut self, reason: &'static str) -> Vec<ServerMessage> {
        let Some(watch) = self.watch.take() else {
            return Vec::new();
        };
        self.stage.set_watching_lesson(self.conn, false);
        self.close_peer(watch.peer).await;
        vec![ServerMessage::MediaClosed {
            peer: WATCH,
            reason,
        }]
    }

    /// A trickled ICE candidate for one of this connection's peers.
    pub async fn add_candidate(&self, peer: &str, init: RTCIceCandidateInit) -> Vec<ServerMessage> {
        const REQUEST: &str = "media_ice";
        let pc = if peer == WATCH {
            self.watch.as_ref().map(|w| w.peer.pc.clone())
        } else {
            self.publishers
                .iter()
                .find(|(s, _)| s.name() == peer)
                .map(|(_, p)| p.pc.clone())
        };
        let Some(pc) = pc else {
            return refused(
                REQUEST,
                None,
                "no_such_peer",
                "you have no such peer connection",
            );
        };
        match pc.add_ice_candidate(init).await {
            Ok(()) => Vec::new(),
            Err(e) => {
                tracing::debug!("ICE candidate refused: {e}");
                refused(
                    REQUEST,
                    None,
                    "bad_candidate",
                    "the ICE candidate cannot be used",
                )
            }
        }
    }

    /// Closes every peer connection of this client; a call it started ends with it.
    pub async fn close(mut self) {
        let streams: Vec<Stream> = self.publishers.keys().copied().collect();
        for stream in streams {
            self.stop_publishing(stream, "closed").await;
        }
        self.stop_watching("closed").await;
        self.stage.leave(self.conn);
        if self
            .stage
            .call()
            .is_some_and(|c| c.teacher_conn == self.conn && self.is_teacher())
        {
            self.stage.end_call();
        }
    }
}

/// Sends `what` on `to` when `pc` fails or is closed.
pub(super) fn report_broken<T: Clone + Send + Sync + 'static>(
    pc: &RTCPeerConnection,
    to: mpsc::UnboundedSender<T>,
    what: T,
) {
    pc.on_peer_connection_state_change(Box::new(move |state| {
        if matches!(
            state,
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed
        ) {
            let _ = to.send(what.clone());
        }
        Box::pin(async {})
    }));
}

/// Runs a media task, counted in /metrics while it lives.
fn spawn_counted(
    counts: &Arc<MediaCounts>,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let counted = counts.count(Gauge::Tasks);
    tokio::spawn(async move {
        task.await;
        drop(counted);
    });
}

fn call_message(call: &Call, active: bool) -> ServerMessage {
    ServerMessage::MediaCall {
        participant: call.participant_id.clone(),
        active,
        video: call.video,
    }
}

/// ICE gathering on the muxed socket is local and quick; this only bounds a broken stack.
const GATHERING_LIMIT: Duration = Duration::from_secs(5);

/// The local description once its candidates are in it (the box sends no trickle).
async fn described(pc: &RTCPeerConnection) -> Result<String, webrtc::Error> {
    pc.local_description()
        .await
        .map(|d| d.sdp)
        .ok_or(webrtc::Error::ErrNoRemoteDescription)
}

pub(super) async fn answer_offer(
    pc: &RTCPeerConnection,
    offer: RTCSessionDescription,
) -> Result<String, webrtc::Error> {
    pc.set_remote_description(offer).await?;
    let answer = pc.create_answer(None).await?;
    let mut gathered = pc.gathering_complete_promise().await;
    pc.set_local_description(answer).await?;
    let _ = tokio::time::timeout(GATHERING_LIMIT, gathered.recv()).await;
    described(pc).await
}

async fn make_offer(pc: &RTCPeerConnection) -> Result<String, webrtc::Error> {
    let offer = pc.create_offer(None).await?;
    let mut gathered = pc.gathering_complete_promise().await;
    pc.set_local_description(offer).await?;
    let _ = tokio::time::timeout(GATHERING_LIMIT, gathered.recv()).await;
    described(pc).await
}
