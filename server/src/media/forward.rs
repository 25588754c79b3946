//! Moving packets: a published track's RTP to every subscriber's binding, and subscribers'
//! keyframe requests (PLI/FIR) back to the publisher, at most one per [`KEYFRAME_GAP`].
//! NACKs are answered per subscriber by the interceptors from their own send buffer.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtp_transceiver::rtp_sender::RTCRtpSender;
use webrtc::track::track_local::TrackLocalWriter;
use webrtc::track::track_remote::TrackRemote;

use super::stage::{Stage, Track};
use super::MediaCounts;

/// Many subscribers joining at once ask for a keyframe each; the publisher needs one.
const KEYFRAME_GAP: Duration = Duration::from_millis(500);

/// Asks a publisher for a keyframe of one of its video tracks.
pub struct Keyframes {
    publisher: Weak<RTCPeerConnection>,
    media_ssrc: u32,
    video: bool,
    last: Mutex<Option<Instant>>,
}

impl Keyframes {
    pub fn new(publisher: Weak<RTCPeerConnection>, media_ssrc: u32, video: bool) -> Self {
        Self {
            publisher,
            media_ssrc,
            video,
            last: Mutex::new(None),
        }
    }

    pub async fn request(&self) {
        if !self.video {
            return;
        }
        {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|at| at.elapsed() < KEYFRAME_GAP) {
                return;
            }
            *last = Some(Instant::now());
        }
        let Some(publisher) = self.publisher.upgrade() else {
            return;
        };
        let pli = PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc: self.media_ssrc,
        };
        if let Err(e) = publisher.write_rtcp(&[Box::new(pli)]).await {
            tracing::debug!("keyframe request not sent: {e}");
        }
    }
}

/// Copies the publisher's packets to every subscriber until the publisher's track ends, then
/// takes the track off the stage.
pub async fn forward(
    remote: Arc<TrackRemote>,
    track: Arc<Track>,
    stage: Arc<Stage>,
    counts: Arc<MediaCounts>,
) {
    while let Ok((mut packet, _)) = remote.read_rtp().await {
        // The publisher's header extension ids mean nothing on the subscribers' connections,
        // which negotiated their own.
        packet.header.extension = false;
        packet.header.extensions.clear();
        // A subscriber that went away fails its write; the others still got theirs.
        let _ = track.local.write_rtp(&packet).await;
        counts.packets_forwarded.fetch_add(1, Ordering::Relaxed);
    }
    stage.remove_track(&track.id);
}

/// Reads a subscriber's RTCP for one track until the sender stops; keyframe requests go on
/// to the publisher.
pub async fn relay_keyframe_requests(sender: Arc<RTCRtpSender>, track: Arc<Track>) {
    while let Ok((packets, _)) = sender.read_rtcp().await {
        let wants_keyframe = packets.iter().any(|p| {
            let any = p.as_any();
            any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
        });
        if wants_keyframe {
            track.keyframes.request().await;
        }
    }
}
