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

use tokio::sync::{broadcast, watch};
use webrtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use webrtc::rtcp::receiver_report::ReceiverReport;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;

use super::simulcast::{affordable, keyframe_start, LayerPicker, Rewriter};
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
        if wants_keyframe(&packets) {
            track.keyframes.request().await;
        }
    }
}

type RtcpPackets = [Box<dyn webrtc::rtcp::packet::Packet + Send + Sync>];

fn wants_keyframe(packets: &RtcpPackets) -> bool {
    packets.iter().any(|p| {
        let any = p.as_any();
        any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
    })
}

/// Copies one simulcast layer's packets to the track's subscribers (each picks its layer in
/// [`down_track`]); the track leaves the stage when its last layer ends.
pub async fn forward_layer(
    remote: Arc<TrackRemote>,
    track: Arc<Track>,
    layer: usize,
    stage: Arc<Stage>,
    counts: Arc<MediaCounts>,
) {
    let Some(layers) = &track.simulcast else {
        return;
    };
    while let Ok((mut packet, _)) = remote.read_rtp().await {
        packet.header.extension = false;
        packet.header.extensions.clear();
        layers.send(layer, packet);
        counts.packets_forwarded.fetch_add(1, Ordering::Relaxed);
    }
    if layers.end_layer(layer) {
        stage.remove_track(&track.id);
    }
}

/// One subscriber's view of a simulcast track: the packets of the layer `target` names,
/// rewritten into one continuous stream, into the subscriber's own `local` track. Ends when
/// the subscriber's feedback task (which owns `target`'s sender) ends.
pub async fn down_track(
    track: Arc<Track>,
    local: Arc<TrackLocalStaticRTP>,
    mut target: watch::Receiver<usize>,
) {
    let Some(layers) = &track.simulcast else {
        return;
    };
    let mut packets = layers.subscribe();
    let mut rewriter = Rewriter::default();
    loop {
        tokio::select! {
            changed = target.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            packet = packets.recv() => match packet {
                Ok(p) => {
                    let want = *target.borrow();
                    let mut packet = p.packet.clone();
                    let keyframe = keyframe_start(&layers.mime_type, &packet.payload);
                    if rewriter.accept(p.layer, want, keyframe, &mut packet) {
                        let _ = local.write_rtp(&packet).await;
                    }
                }
                // Fell behind: what follows needs a fresh keyframe to decode.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let want = *target.borrow();
                    layers.request_keyframe(want).await;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// A simulcast subscriber's RTCP: keyframe requests go to the publisher of the layer it gets;
/// receiver reports and REMB move it between layers ([`LayerPicker`]).
pub async fn pick_layers(
    sender: Arc<RTCRtpSender>,
    track: Arc<Track>,
    target: watch::Sender<usize>,
) {
    let Some(layers) = &track.simulcast else {
        return;
    };
    let ranked = layers.ranked();
    let mut picker = LayerPicker::new(ranked.len());
    let mut estimate: Option<f64> = None;
    if let Some(&(top, _)) = ranked.last() {
        let _ = target.send(top);
    }
    while let Ok((packets, _)) = sender.read_rtcp().await {
        let ranked = layers.ranked();
        if ranked.is_empty() {
            continue;
        }
        let mut report = None;
        for p in packets.iter() {
            let any = p.as_any();
            if let Some(rr) = any.downcast_ref::<ReceiverReport>() {
                report = rr.reports.first().map(|r| r.fraction_lost).or(report);
            }
            if let Some(remb) = any.downcast_ref::<ReceiverEstimatedMaximumBitrate>() {
                estimate = Some(f64::from(remb.bitrate));
            }
        }
        let mut want = *target.borrow();
        if let Some(fraction_lost) = report {
            let rates: Vec<f64> = ranked.iter().map(|(_, rate)| *rate).collect();
            let cap = estimate.map(|e| affordable(&rates, e));
            let rank =
                picker.on_report(fraction_lost, ranked.len(), cap, std::time::Instant::now());
            want = ranked[rank.min(ranked.len() - 1)].0;
        } else if !ranked.iter().any(|(layer, _)| *layer == want) {
            // The layer it had stopped: the best one left.
            want = ranked[ranked.len() - 1].0;
        }
        if want != *target.borrow() {
            let _ = target.send(want);
            layers.request_keyframe(want).await;
        } else if wants_keyframe(&packets) {
            layers.request_keyframe(want).await;
        }
    }
}
