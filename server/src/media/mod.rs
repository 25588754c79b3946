//! Live audio and video: a selective forwarding unit (SFU) on webrtc-rs. Browsers publish
//! tracks to the box; the box forwards their RTP, undecoded, to whoever may receive them.
//!
//! - [`engine`]: the shared WebRTC stack (codecs, interceptors, ICE-lite on one UDP port).
//! - [`stage`]: one lesson's published tracks, talk-back grants and private call, and the
//!   rules of who receives what.
//! - [`forward`]: copying a published track's packets to its subscribers, simulcast layers
//!   picked per subscriber ([`simulcast`]).
//! - [`keyframes`]: asking a publisher for a keyframe, at most once per gap, never dropped.
//! - [`offer`]: what a browser's offer asks to send, checked before it is answered.
//! - [`link`]: one client connection's peer connections and its signaling.
//! - [`relay`]: this box receiving a paired box's lesson once, for its own viewers.
//!
//! Signaling rides on the client WebSocket (`/ws`); docs/PROTOCOL.md has every message.
//! Nothing is recorded: packets pass through memory only.

pub mod engine;
pub mod forward;
pub mod keyframes;
pub mod link;
pub mod offer;
pub mod relay;
pub mod simulcast;
pub mod stage;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::broadcast;

use crate::config::MediaConfig;
use crate::ids::{LessonId, TeacherId};
use crate::memory;
pub use crate::protocol::{Stream, WatchSource};
use engine::Engine;
use stage::Stage;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("cannot bind the media UDP port {0}: {1}")]
    Bind(u16, std::io::Error),
    #[error("webrtc: {0}")]
    WebRtc(#[from] webrtc::Error),
}

/// Live counts for /metrics; each is raised by a [`Counted`] and lowered when it drops, so a
/// leak shows as a count that does not return to zero.
#[derive(Default)]
pub struct MediaCounts {
    pub peers: AtomicUsize,
    pub tracks: AtomicUsize,
    pub tasks: AtomicUsize,
    /// Paired boxes this box sends a lesson to (one each, however many watch there).
    pub relays_out: AtomicUsize,
    /// Lessons this box receives from a paired box for its own viewers.
    pub relays_in: AtomicUsize,
    pub packets_forwarded: AtomicU64,
    /// Bytes of RTP received from paired boxes relaying their lessons here.
    pub relay_bytes_received: AtomicU64,
}

#[derive(Clone, Copy)]
pub enum Gauge {
    Peers,
    Tracks,
    Tasks,
    RelaysOut,
    RelaysIn,
}

/// Holds one unit of a gauge for as long as it lives.
pub struct Counted {
    counts: Arc<MediaCounts>,
    gauge: Gauge,
}

impl MediaCounts {
    fn gauge(&self, gauge: Gauge) -> &AtomicUsize {
        match gauge {
            Gauge::Peers => &self.peers,
            Gauge::Tracks => &self.tracks,
            Gauge::Tasks => &self.tasks,
            Gauge::RelaysOut => &self.relays_out,
            Gauge::RelaysIn => &self.relays_in,
        }
    }

    pub fn count(self: &Arc<Self>, gauge: Gauge) -> Counted {
        self.gauge(gauge).fetch_add(1, Ordering::Relaxed);
        Counted {
            counts: self.clone(),
            gauge,
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.counts
            .gauge(self.gauge)
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// The box's media service: the WebRTC stack and the stage of every lesson with media.
pub struct Media {
    engine: Engine,
    stages: Mutex<HashMap<LessonId, Weak<Stage>>>,
    pub counts: Arc<MediaCounts>,
    max_peers_per_lesson: usize,
    next_connection: AtomicU64,
    release_pending: Arc<AtomicBool>,
    /// Each lesson whose stage was just made (what follows a paired box's lesson listens to).
    opened: broadcast::Sender<LessonId>,
}

/// Peers leave in waves (a lesson ends, a class stops watching); one release after the wave.
const RELEASE_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

impl Media {
    pub async fn start(config: &MediaConfig, bind_ip: IpAddr) -> Result<Arc<Self>, MediaError> {
        let engine = Engine::start(config, bind_ip).await?;
        tracing::info!(udp = %engine.udp, "media listening");
        Ok(Arc::new(Self {
            engine,
            stages: Mutex::new(HashMap::new()),
            counts: Arc::new(MediaCounts::default()),
            max_peers_per_lesson: config.max_peers_per_lesson,
            next_connection: AtomicU64::new(1),
            release_pending: Arc::new(AtomicBool::new(false)),
            opened: broadcast::channel(64).0,
        }))
    }

    pub fn udp(&self) -> engine::Udp {
        self.engine.udp
    }

    /// The stage of `lesson_id` (run by `lesson_teacher`), made when its first client
    /// connects and gone with its last.
    pub fn stage(&self, lesson_id: &LessonId, lesson_teacher: &TeacherId) -> Arc<Stage> {
        let mut stages = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stage) = stages.get(lesson_id).and_then(Weak::upgrade) {
            return stage;
        }
        stages.retain(|_, weak| weak.strong_count() > 0);
        let stage = Arc::new(Stage::new(
            lesson_id,
            lesson_teacher,
            self.max_peers_per_lesson,
        ));
        stages.insert(lesson_id.clone(), Arc::downgrade(&stage));
        // Nobody listening is fine: no lesson here is relayed from a paired box.
        let _ = self.opened.send(lesson_id.clone());
        stage
    }

    /// The lessons whose stage is made from now on, one message each.
    pub fn stages_opened(&self) -> broadcast::Receiver<LessonId> {
        self.opened.subscribe()
    }

    /// The lesson's stage if anyone has media open in it.
    pub fn existing_stage(&self, lesson_id: &LessonId) -> Option<Arc<Stage>> {
        let stages = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        stages.get(lesson_id).and_then(Weak::upgrade)
    }

    fn new_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    pub async fn close(&self) {
        self.engine.close().await;
    }

    /// Called after a peer connection closed: once closing has been quiet for
    /// [`RELEASE_AFTER`], the memory the peers' buffers held goes back to the system (a
    /// class's media connections leave in one go at the end of a lesson).
    fn peer_gone(&self) {
        if self.release_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let pending = self.release_pending.clone();
        tokio::spawn(async move {
            tokio::time::sleep(RELEASE_AFTER).await;
            pending.store(false, Ordering::Release);
            let _ = tokio::task::spawn_blocking(memory::release_freed).await;
        });
    }
}
