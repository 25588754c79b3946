//! One lesson's media: the tracks published into it, who the teacher let speak, the private
//! call, and [`Stage::visible_to`], the one rule of who receives which track.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{broadcast, watch};
use webrtc::rtp_transceiver::rtp_codec::{RTCRtpCodecCapability, RTPCodecType};
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;

use super::keyframes::Keyframes;
use super::simulcast::Simulcast;
use super::{Counted, Stream, WatchSource};
use crate::auth::{MediaFacts, Medium, Who};
use crate::ids::{LessonId, ParticipantId, TeacherId};

/// A client connection, numbered by the box.
pub type ConnId = u64;

/// How a track's stream id names its owner: `teacher`, `classroom` (the lesson's classroom
/// camera) or the pupil's participant id.
fn label(owner: &Who) -> &str {
    match owner {
        Who::Teacher { .. } => "teacher",
        Who::Camera { .. } => "classroom",
        Who::Pupil(seat) => &seat.participant_id,
        Who::Nobody | Who::PairedBox { .. } => "nobody",
    }
}

/// The medium a published stream is, for `auth::can`.
pub fn sent_medium(stream: Stream) -> Medium {
    match stream {
        Stream::Camera => Medium::Lesson,
        Stream::Screen => Medium::Screen,
        Stream::Interpreter | Stream::DocumentCamera => Medium::Second,
        Stream::Talk => Medium::Talk,
        Stream::Call => Medium::Call,
    }
}

/// The medium a watched source is, for `auth::can`.
pub fn received_medium(source: WatchSource) -> Medium {
    match source {
        WatchSource::Lesson => Medium::Lesson,
        WatchSource::Talk => Medium::Talk,
        WatchSource::Call => Medium::Call,
    }
}

/// Which sources one connection may receive now: decided by the service layer (`auth::can`
/// with [`Stage::facts_now`]), applied by the stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Receivable {
    pub lesson: bool,
    pub talk: bool,
    pub call: bool,
}

/// A published track as subscribers receive it.
pub struct Track {
    pub id: String,
    pub stream: Stream,
    pub kind: RTPCodecType,
    pub owner_conn: ConnId,
    pub owner: Who,
    /// Subscribers of a single-layer track share this; for a simulcast track it is the
    /// template of each subscriber's own.
    pub local: Arc<TrackLocalStaticRTP>,
    pub keyframes: Keyframes,
    pub simulcast: Option<Simulcast>,
    _counted: Counted,
}

impl Track {
    /// Asks the publisher for a keyframe (of every layer, for a simulcast track).
    pub async fn request_keyframe(&self) {
        match &self.simulcast {
            None => self.keyframes.request().await,
            Some(layers) => {
                for (layer, _) in layers.ranked() {
                    layers.request_keyframe(layer).await;
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The teacher's connection that started it: only it hears the pupil.
    pub teacher_conn: ConnId,
    pub participant_id: ParticipantId,
    pub video: bool,
}

/// Changes every connection of the lesson hears about and sorts out for itself.
#[derive(Debug, Clone)]
pub enum StageEvent {
    /// Tracks came or went: receivers bring their peer connection up to date.
    Tracks,
    Talk {
        participant_id: ParticipantId,
        granted: bool,
        video: bool,
    },
    Call {
        call: Call,
        active: bool,
    },
    /// Another connection took over publishing `stream`; `conn` stops.
    Replaced {
        conn: ConnId,
        stream: Stream,
    },
}

/// Why a request about the stage is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The role or the moment does not allow it.
    Forbidden,
    /// The lesson holds as many peer connections as it may.
    Full,
}

#[derive(Default)]
struct Inner {
    tracks: Vec<Arc<Track>>,
    /// Pupils the teacher lets speak, and whether with their camera too.
    talk: HashMap<ParticipantId, bool>,
    call: Option<Call>,
    /// Which connection publishes the camera and the screen.
    publishers: HashMap<Stream, ConnId>,
    peers: usize,
    next_track: u64,
    /// Paired boxes' relays let in by the service (the lesson's class is shared with them).
    relays: HashSet<ConnId>,
    /// Connections receiving the lesson's own source now.
    lesson_viewers: HashSet<ConnId>,
}

pub struct Stage {
    inner: Mutex<Inner>,
    events: broadcast::Sender<StageEvent>,
    max_peers: usize,
    lesson_id: LessonId,
    lesson_teacher: TeacherId,
    /// How many connections receive the lesson's source: what a box relaying this lesson
    /// from its origin box follows.
    viewers: watch::Sender<usize>,
}

/// A published track before it has an id.
pub struct NewTrack {
    pub stream: Stream,
    pub kind: RTPCodecType,
    pub owner_conn: ConnId,
    pub owner: Who,
    pub keyframes: Keyframes,
    pub counted: Counted,
    /// A relayed track keeps the stream id its origin box gave it (`camera.teacher`), so
    /// viewers here show it as the origin's viewers do.
    pub relayed_stream_id: Option<String>,
}

impl Stage {
    /// The stage of `lesson_id`, run by `lesson_teacher`.
    pub fn new(lesson_id: &LessonId, lesson_teacher: &TeacherId, max_peers: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            events: broadcast::channel(64).0,
            max_peers,
            lesson_id: lesson_id.clone(),
            lesson_teacher: lesson_teacher.clone(),
            viewers: watch::channel(0).0,
        }
    }

    pub fn lesson_id(&self) -> &LessonId {
        &self.lesson_id
    }

    /// The teacher who runs the lesson.
    pub fn lesson_teacher(&self) -> &TeacherId {
        &self.lesson_teacher
    }

    /// What the stage says now about `who` on `conn` sending or receiving `medium` (a talk
    /// grant, the call, a relay): the facts the service layer asks `auth::can` with.
    pub fn facts_now(&self, medium: Medium, conn: ConnId, who: &Who) -> MediaFacts<'_> {
        let inner = self.lock();
        self.facts(&inner, medium, conn, who)
    }

    fn facts(&self, inner: &Inner, medium: Medium, conn: ConnId, who: &Who) -> MediaFacts<'_> {
        let talk_grant = match who {
            Who::Pupil(seat) => inner.talk.get(&seat.participant_id).copied(),
            _ => None,
        };
        MediaFacts {
            lesson_id: &self.lesson_id,
            lesson_teacher: &self.lesson_teacher,
            medium,
            video: false,
            talk_grant,
            in_call: inner
                .call
                .as_ref()
                .filter(|call| call.includes(conn, who))
                .map(|call| call.video),
            relay: inner.relays.contains(&conn),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tell(&self, event: StageEvent) {
        // Nobody listening is fine: the stage has no connections then.
        let _ = self.events.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<StageEvent> {
        self.events.subscribe()
    }

    /// Reserves room for one more peer connection; [`Stage::peer_closed`] gives it back.
    pub fn peer_opened(&self) -> Result<(), Refusal> {
        let mut inner = self.lock();
        if inner.peers >= self.max_peers {
            return Err(Refusal::Full);
        }
        inner.peers += 1;
        Ok(())
    }

    pub fn peer_closed(&self) {
        let mut inner = self.lock();
        inner.peers = inner.peers.saturating_sub(1);
    }

    /// Lets a paired box's relay on `conn` receive the lesson (the service checked that the
    /// lesson's class is shared with it); [`Stage::leave`] ends it.
    pub fn admit_relay(&self, conn: ConnId) {
        self.lock().relays.insert(conn);
    }

    /// Whether `conn` receives the lesson's own source now.
    pub fn set_watching_lesson(&self, conn: ConnId, watching: bool) {
        let count = {
            let mut inner = self.lock();
            if watching {
                inner.lesson_viewers.insert(conn);
            } else {
                inner.lesson_viewers.remove(&conn);
            }
            inner.lesson_viewers.len()
        };
        self.viewers.send_if_modified(|now| {
            let changed = *now != count;
            *now = count;
            changed
        });
    }

    /// `conn` closed: it neither watches nor relays any more.
    pub fn leave(&self, conn: ConnId) {
        self.lock().relays.remove(&conn);
        self.set_watching_lesson(conn, false);
    }

    /// The number of connections receiving the lesson's source, as it changes; closed when the
    /// stage goes.
    pub fn lesson_viewers(&self) -> watch::Receiver<usize> {
        self.viewers.subscribe()
    }

    /// `conn` publishes this lesson source (camera, screen, second picture) from now on; whoever did before is told to
    /// stop, and their tracks leave the stage at once.
    pub fn claim(&self, stream: Stream, conn: ConnId) {
        let before = {
            let mut inner = self.lock();
            let before = inner.publishers.insert(stream, conn);
            if let Some(old) = before.filter(|&old| old != conn) {
                inner
                    .tracks
                    .retain(|t| !(t.owner_conn == old && t.stream == stream));
            }
            before
        };
        if let Some(old) = before.filter(|&old| old != conn) {
            self.tell(StageEvent::Replaced { conn: old, stream });
            self.tell(StageEvent::Tracks);
        }
    }

    pub fn add_track(&self, new: NewTrack, codec: RTCRtpCodecCapability) -> Arc<Track> {
        let track = Self::new_track(&mut self.lock(), new, codec, false);
        self.tell(StageEvent::Tracks);
        track
    }

    /// A simulcast layer arrived: joins its publisher's track of that stream, made by the
    /// first layer. Returns the track and the layer's index.
    pub fn add_layer(
        &self,
        new: NewTrack,
        codec: RTCRtpCodecCapability,
        rid: &str,
        keyframes: Keyframes,
    ) -> (Arc<Track>, usize) {
        let (track, made) = {
            let mut inner = self.lock();
            let existing = inner
                .tracks
                .iter()
                .find(|t| {
                    t.owner_conn == new.owner_conn
                        && t.stream == new.stream
                        && t.kind == new.kind
                        && t.simulcast.is_some()
                })
                .cloned();
            match existing {
                Some(track) => (track, false),
                None => (Self::new_track(&mut inner, new, codec, true), true),
            }
        };
        let layer = track
            .simulcast
            .as_ref()
            .map_or(0, |layers| layers.add_layer(rid, keyframes));
        if made {
            self.tell(StageEvent::Tracks);
        }
        (track, layer)
    }

    fn new_track(
        inner: &mut Inner,
        new: NewTrack,
        codec: RTCRtpCodecCapability,
        simulcast: bool,
    ) -> Arc<Track> {
        inner.next_track += 1;
        let kind = match new.kind {
            RTPCodecType::Audio => "audio",
            _ => "video",
        };
        let id = format!("{}-{kind}-{}", new.stream.name(), inner.next_track);
        let stream_id = new
            .relayed_stream_id
            .unwrap_or_else(|| format!("{}.{}", new.stream.name(), label(&new.owner)));
        let track = Arc::new(Track {
            simulcast: simulcast.then(|| Simulcast::new(codec.mime_type.clone())),
            local: Arc::new(TrackLocalStaticRTP::new(codec, id.clone(), stream_id)),
            id,
            stream: new.stream,
            kind: new.kind,
            owner_conn: new.owner_conn,
            owner: new.owner,
            keyframes: new.keyframes,
            _counted: new.counted,
        });
        inner.tracks.push(track.clone());
        track
    }

    pub fn remove_track(&self, id: &str) {
        let removed = {
            let mut inner = self.lock();
            let before = inner.tracks.len();
            inner.tracks.retain(|t| t.id != id);
            before != inner.tracks.len()
        };
        if removed {
            self.tell(StageEvent::Tracks);
        }
    }

    /// Takes every track `conn` published on `stream` off the stage.
    pub fn withdraw(&self, conn: ConnId, stream: Stream) {
        let removed = {
            let mut inner = self.lock();
            let before = inner.tracks.len();
            inner
                .tracks
                .retain(|t| !(t.owner_conn == conn && t.stream == stream));
            if inner.publishers.get(&stream) == Some(&conn) {
                inner.publishers.remove(&stream);
            }
            before != inner.tracks.len()
        };
        if removed {
            self.tell(StageEvent::Tracks);
        }
    }

    /// Is a classroom camera sending into the lesson now?
    pub fn classroom_camera_live(&self) -> bool {
        self.lock()
            .tracks
            .iter()
            .any(|t| matches!(t.owner, Who::Camera { .. }))
    }

    /// The tracks `conn` receives when it asks for `wants`: those of the sources it may
    /// receive now (`may`, decided by the service layer), a call's only from its other side.
    pub fn visible_to(
        &self,
        conn: ConnId,
        wants: &HashSet<WatchSource>,
        may: Receivable,
    ) -> Vec<Arc<Track>> {
        let inner = self.lock();
        let (lesson, talk, call) = (
            may.lesson && wants.contains(&WatchSource::Lesson),
            may.talk && wants.contains(&WatchSource::Talk),
            may.call && wants.contains(&WatchSource::Call),
        );
        inner
            .tracks
            .iter()
            .filter(|t| t.owner_conn != conn)
            .filter(|t| {
                if t.stream.is_lesson_source() {
                    return lesson;
                }
                match t.stream {
                    Stream::Talk => talk,
                    Stream::Call => {
                        call && inner
                            .call
                            .as_ref()
                            .is_some_and(|c| c.includes(t.owner_conn, &t.owner))
                    }
                    _ => false,
                }
            })
            .cloned()
            .collect()
    }

    pub fn talk_grants(&self) -> Vec<(ParticipantId, bool)> {
        self.lock()
            .talk
            .iter()
            .map(|(id, video)| (id.clone(), *video))
            .collect()
    }

    pub fn talk_grant(&self, participant_id: &ParticipantId) -> Option<bool> {
        self.lock().talk.get(participant_id).copied()
    }

    pub fn grant_talk(&self, participant_id: &ParticipantId, video: bool) {
        self.lock().talk.insert(participant_id.clone(), video);
        self.tell(StageEvent::Talk {
            participant_id: participant_id.clone(),
            granted: true,
            video,
        });
    }

    /// Ends a pupil's talk-back: their tracks leave the stage now, before their page stops
    /// sending.
    pub fn revoke_talk(&self, participant_id: &ParticipantId) {
        {
            let mut inner = self.lock();
            inner.talk.remove(participant_id);
            inner.tracks.retain(|t| {
                !(t.stream == Stream::Talk
                    && matches!(&t.owner, Who::Pupil(seat) if seat.participant_id == participant_id))
            });
        }
        self.tell(StageEvent::Talk {
            participant_id: participant_id.clone(),
            granted: false,
            video: false,
        });
        self.tell(StageEvent::Tracks);
    }

    pub fn call(&self) -> Option<Call> {
        self.lock().call.clone()
    }

    /// Starts a private call; one that was running ends first.
    pub fn start_call(&self, call: Call) {
        self.end_call();
        self.lock().call = Some(call.clone());
        self.tell(StageEvent::Call { call, active: true });
    }

    /// Ends the call, if any; its tracks leave the stage at once.
    pub fn end_call(&self) {
        let ended = {
            let mut inner = self.lock();
            let ended = inner.call.take();
            if ended.is_some() {
                inner.tracks.retain(|t| t.stream != Stream::Call);
            }
            ended
        };
        if let Some(call) = ended {
            self.tell(StageEvent::Call {
                call,
                active: false,
            });
            self.tell(StageEvent::Tracks);
        }
    }
}

/// Which kinds a publisher may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    pub audio: bool,
    pub video: bool,
}

impl Allowed {
    pub fn kind(&self, kind: RTPCodecType) -> bool {
        match kind {
            RTPCodecType::Audio => self.audio,
            RTPCodecType::Video => self.video,
            _ => false,
        }
    }
}

impl Call {
    /// Is this connection one of the call's two sides?
    pub fn includes(&self, conn: ConnId, who: &Who) -> bool {
        match who {
            Who::Teacher { .. } => conn == self.teacher_conn,
            Who::Pupil(seat) => seat.participant_id == self.participant_id,
            Who::Camera { .. } | Who::Nobody | Who::PairedBox { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(max_peers: usize) -> Stage {
        Stage::new(&"L1".into(), &"t1".into(), max_peers)
    }

    #[test]
    fn peers_are_capped() {
        let stage = stage(1);
        assert!(stage.peer_opened().is_ok());
        assert_eq!(stage.peer_opened(), Err(Refusal::Full));
        stage.peer_closed();
        assert!(stage.peer_opened().is_ok());
    }
}
