//! Moving packets: a published track's RTP to every subscriber's binding, and subscribers'
//! keyframe requests (PLI/FIR) back to the publisher ([`super::keyframes`]).
//! NACKs are answered per subscriber by the interceptors from their own send buffer.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use webrtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtp::header::Header;
use webrtc::rtp_transceiver::rtp_sender::RTCRtpSender;
use webrtc::track::track_local::TrackLocalWriter;
use webrtc::track::track_remote::TrackRemote;
use webrtc::util::MarshalSize;

use tokio::sync::{broadcast, watch};
use webrtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use webrtc::rtcp::receiver_report::ReceiverReport;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;

use super::simulcast::{affordable, keyframe_start, layer_at, LayerPicker, Rewriter};
use super::stage::{Stage, Track};
use super::MediaCounts;

/// Makes a publisher's RTP header fit for the subscribers' connections. The publisher's header
/// extension ids mean nothing there (each negotiated its own), and all that came with them
/// goes too: a browser's extension block is padded, and a padding count left behind makes
/// the header's size disagree with what is written once a subscriber's sender adds an
/// extension of its own — every such packet then fails to send (a black picture at home).
pub fn strip_extensions(header: &mut Header) {
    header.extension = false;
    header.extension_profile = 0;
    header.extensions.clear();
    header.extensions_padding = 0;
}

/// Where a forwarded track comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A browser (or camera) publishing on this box.
    Publisher,
    /// A paired box relaying its lesson here (its bytes are counted for /metrics).
    Relay,
}

/// Copies the publisher's packets to every subscriber until the publisher's track ends, then
/// takes the track off the stage.
pub async fn forward(
    remote: Arc<TrackRemote>,
    track: Arc<Track>,
    stage: Arc<Stage>,
    counts: Arc<MediaCounts>,
    source: Source,
) {
    while let Ok((mut packet, _)) = remote.read_rtp().await {
        if source == Source::Relay {
            let size = packet.header.marshal_size() + packet.payload.len();
            counts
                .relay_bytes_received
                .fetch_add(size as u64, Ordering::Relaxed);
        }
        strip_extensions(&mut packet.header);
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
        strip_extensions(&mut packet.header);
        layers.send(layer, packet);
        counts.packets_forwarded.fetch_add(1, Ordering::Relaxed);
    }
    if layers.end_layer(layer) {
        stage.remove_track(&track.id);
    }
}

/// How long a viewer switching layers waits for the new layer's keyframe before asking again.
const KEYFRAME_RETRY: Duration = Duration::from_secs(1);
/// How often a viewer's layer is checked against the layers arriving, so one whose layer
/// stopped moves on without waiting for its next receiver report.
const LAYER_CHECK: Duration = Duration::from_millis(500);

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
    let mut asked = Instant::now();
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
                        if let Err(e) = local.write_rtp(&packet).await {
                            tracing::debug!("forwarding to a viewer: {e}");
                        }
                    }
                    // Waiting for the layer's keyframe: the request may have been lost.
                    if rewriter.current() != Some(want) && asked.elapsed() >= KEYFRAME_RETRY {
                        asked = Instant::now();
                        layers.request_keyframe(want).await;
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

/// A simulcast subscriber's layer: its RTCP (keyframe requests go to the publisher of the layer
/// it gets; receiver reports and REMB move it up or down, [`LayerPicker`]) and the layers
/// arriving (one that stops is left for the best one that still comes).
pub async fn pick_layers(
    sender: Arc<RTCRtpSender>,
    track: Arc<Track>,
    target: watch::Sender<usize>,
) {
    let Some(layers) = &track.simulcast else {
        return;
    };
    let mut picker = LayerPicker::new();
    let mut estimate: Option<f64> = None;
    let mut check = tokio::time::interval(LAYER_CHECK);
    loop {
        let rtcp = tokio::select! {
            read = sender.read_rtcp() => match read {
                Ok((packets, _)) => Some(packets),
                Err(_) => return,
            },
            _ = check.tick() => None,
        };
        let ranked = layers.ranked();
        if let Some(packets) = &rtcp {
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
            if let (Some(fraction_lost), false) = (report, ranked.is_empty()) {
                let rates: Vec<f64> = ranked.iter().map(|(_, rate)| *rate).collect();
                let cap = estimate.map(|e| affordable(&rates, e));
                picker.on_report(fraction_lost, layers.layer_count(), cap, Instant::now());
            }
        }
        let Some(want) = layer_at(&ranked, picker.target()) else {
            // Nothing arrives (the publisher paused): keep what it had.
            continue;
        };
        if want != *target.borrow() {
            let _ = target.send(want);
            layers.request_keyframe(want).await;
        } else if rtcp.as_deref().is_some_and(wants_keyframe) {
            layers.request_keyframe(want).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webrtc::rtp::header::Extension;
    use webrtc::rtp::packet::Packet;
    use webrtc::util::{Marshal, Unmarshal};

    /// A packet as a browser sends it: one-byte header extensions (mid, rid, one more) whose
    /// block is padded to a word.
    fn browser_packet() -> bytes::Bytes {
        let extension = |id: u8, value: &[u8]| Extension {
            id,
            payload: bytes::Bytes::copy_from_slice(value),
        };
        let packet = Packet {
            header: Header {
                version: 2,
                extension: true,
                extension_profile: 0xBEDE,
                extensions: vec![extension(4, b"0"), extension(10, b"h"), extension(3, &[9])],
                sequence_number: 7,
                ..Default::default()
            },
            payload: vec![0x10, 0, 1, 2, 3].into(),
        };
        packet.marshal().expect("a browser's packet")
    }

    #[test]
    fn a_forwarded_packet_still_sends_when_the_viewers_connection_adds_an_extension() {
        let mut bytes = browser_packet();
        let mut packet = Packet::unmarshal(&mut bytes).expect("parses");
        assert_ne!(packet.header.extensions_padding, 0, "the block is padded");
        strip_extensions(&mut packet.header);
        // What the viewer's sender does with the mid it negotiated.
        packet
            .header
            .set_extension(1, bytes::Bytes::from_static(b"12"))
            .expect("extension set");
        let sent = packet.marshal().expect("marshals as its size says");
        let back = Packet::unmarshal(&mut sent.clone()).expect("the viewer parses it");
        assert_eq!(back.payload, packet.payload);
        assert_eq!(back.header.extensions.len(), 1, "only the viewer's own");
    }
}
