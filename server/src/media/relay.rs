//! This box receiving a paired box's lesson for its own viewers (a class split over two rooms):
//! the lesson's origin box sends its lesson source once, on one peer connection, and the tracks
//! join this box's stage for the same lesson, where its viewers receive them as they would the
//! teacher's here. Their keyframe requests go back to the origin box, and from there to the
//! teacher's browser.
//!
//! Signaling is the `/ws` media protocol spoken to the origin box's sync listener
//! (`/sync/relay`, docs/PROTOCOL.md): this side asks `media_watch` for `lesson`, the origin
//! offers and this side answers. [`Upstream`] only turns the origin's messages into replies;
//! the service carries them.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtp_transceiver::rtp_codec::RTPCodecType;

use super::forward::{forward, Source};
use super::keyframes::Keyframes;
use super::link::{answer_offer, report_broken};
use super::stage::{NewTrack, Stage};
use super::{Counted, Gauge, Media, Stream};
use crate::auth::Who;

/// What the origin box says, as far as relaying goes; anything else is ignored.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FromOrigin {
    MediaOffer {
        sdp: String,
    },
    MediaClosed {
        reason: String,
    },
    MediaRefused {
        code: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the origin box closed the stream ({0})")]
    Closed(String),
    #[error("the origin box refused the stream ({0})")]
    Refused(String),
    #[error("a message from the origin box is not understood")]
    Malformed,
    #[error("webrtc: {0}")]
    WebRtc(#[from] webrtc::Error),
}

/// One lesson received from its origin box: one peer connection, whose tracks are on the stage
/// while it is open.
pub struct Upstream {
    media: Arc<Media>,
    pc: Arc<RTCPeerConnection>,
    failed: mpsc::UnboundedReceiver<()>,
    _counted: [Counted; 2],
}

impl Upstream {
    /// A peer connection to the origin box (`origin`, a paired box), feeding `stage`.
    pub async fn open(
        media: &Arc<Media>,
        stage: Arc<Stage>,
        origin: Who,
    ) -> Result<Self, UpstreamError> {
        let pc = Arc::new(
            media
                .engine
                .relay_api
                .new_peer_connection(RTCConfiguration::default())
                .await?,
        );
        let (failed_tx, failed) = mpsc::unbounded_channel();
        report_broken(&pc, failed_tx, ());
        feed_stage(media, &pc, stage, origin);
        Ok(Self {
            media: media.clone(),
            pc,
            failed,
            _counted: [
                media.counts.count(Gauge::Peers),
                media.counts.count(Gauge::RelaysIn),
            ],
        })
    }

    /// The first message to the origin box: receive the lesson.
    pub fn watch_request() -> String {
        json!({"type": "media_watch", "sources": ["lesson"]}).to_string()
    }

    /// Acts on a message from the origin box; returns the reply to send, if any.
    pub async fn on_message(&self, text: &str) -> Result<Option<String>, UpstreamError> {
        match serde_json::from_str(text).map_err(|_| UpstreamError::Malformed)? {
            FromOrigin::MediaOffer { sdp } => {
                let offer = RTCSessionDescription::offer(sdp)?;
                let sdp = answer_offer(&self.pc, offer).await?;
                Ok(Some(
                    json!({"type": "media_answer", "sdp": sdp}).to_string(),
                ))
            }
            FromOrigin::MediaClosed { reason } => Err(UpstreamError::Closed(reason)),
            FromOrigin::MediaRefused { code } => Err(UpstreamError::Refused(code)),
            FromOrigin::Other => Ok(None),
        }
    }

    /// Resolves when the peer connection failed (the path to the origin box broke).
    /// Cancel-safe.
    pub async fn failed(&mut self) {
        if self.failed.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }

    /// Closes the peer connection; its tracks leave the stage as their packets stop.
    pub async fn close(self) {
        if let Err(e) = self.pc.close().await {
            tracing::debug!("closing a relay's peer connection: {e}");
        }
        self.media.peer_gone();
    }
}

/// Puts every lesson track the origin box sends on `stage`, under the stream id the origin
/// gave it; anything that is not the lesson's own source is left out.
fn feed_stage(media: &Arc<Media>, pc: &Arc<RTCPeerConnection>, stage: Arc<Stage>, origin: Who) {
    let counts = media.counts.clone();
    let owner_conn = media.new_connection_id();
    let upstream = Arc::downgrade(pc);
    pc.on_track(Box::new(move |remote, _receiver, _transceiver| {
        let (stage, counts, origin, upstream) = (
            stage.clone(),
            counts.clone(),
            origin.clone(),
            upstream.clone(),
        );
        Box::pin(async move {
            let stream_id = remote.stream_id();
            let Some(stream) = stream_id
                .split('.')
                .next()
                .and_then(Stream::from_name)
                .filter(|s| s.is_lesson_source())
            else {
                return;
            };
            let video = remote.kind() == RTPCodecType::Video;
            let new = NewTrack {
                stream,
                kind: remote.kind(),
                owner_conn,
                owner: origin,
                keyframes: Keyframes::new(upstream, remote.ssrc(), video),
                counted: counts.count(Gauge::Tracks),
                relayed_stream_id: Some(stream_id),
            };
            let track = stage.add_track(new, remote.codec().capability);
            let task = counts.count(Gauge::Tasks);
            tokio::spawn(async move {
                forward(remote, track, stage, counts, Source::Relay).await;
                drop(task);
            });
        })
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origins_messages_are_read_for_what_relaying_needs() {
        let read = |text: &str| serde_json::from_str::<FromOrigin>(text);
        assert!(matches!(
            read(r#"{"type":"media_offer","sdp":"v=0"}"#),
            Ok(FromOrigin::MediaOffer { .. })
        ));
        assert!(matches!(
            read(r#"{"type":"media_closed","peer":"watch","reason":"failed"}"#),
            Ok(FromOrigin::MediaClosed { reason }) if reason == "failed"
        ));
        assert!(matches!(
            read(r#"{"type":"welcome","role":"paired_box"}"#),
            Ok(FromOrigin::Other)
        ));
        assert!(read("not json").is_err());
    }
}
