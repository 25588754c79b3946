//! A WebRTC client (webrtc-rs) that signals over `/ws` like the web client does: publishes
//! synthetic RTP (the box forwards without decoding, so any payload will do) and receives.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use webrtc::api::media_engine::{MediaEngine, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::api::{APIBuilder, API};
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::ice::network_type::NetworkType;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtp::header::{Extension, Header};
use webrtc::rtp::packet::Packet;
use webrtc::rtp_transceiver::rtp_codec::{
    RTCRtpCodecCapability, RTCRtpHeaderExtensionCapability, RTPCodecType,
};
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::rtp_transceiver::RTCRtpTransceiverInit;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::{TrackLocal, TrackLocalWriter};

use crate::{next_json, send_text, Socket};

/// A WebRTC stack for clients on this machine: loopback candidates only, VP8/Opus and the
/// rest of the default codecs, simulcast header extensions (also used by `tavla-bench`).
pub fn api() -> API {
    let mut codecs = MediaEngine::default();
    codecs.register_default_codecs().expect("codecs");
    for uri in [
        webrtc::sdp::extmap::SDES_MID_URI,
        webrtc::sdp::extmap::SDES_RTP_STREAM_ID_URI,
    ] {
        codecs
            .register_header_extension(
                RTCRtpHeaderExtensionCapability {
                    uri: uri.to_owned(),
                },
                RTPCodecType::Video,
                None,
            )
            .expect("simulcast header extensions");
    }
    let mut settings = SettingEngine::default();
    settings.set_include_loopback_candidate(true);
    settings.set_network_types(vec![NetworkType::Udp4]);
    settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    settings.set_ip_filter(Box::new(|ip| ip.is_loopback()));
    APIBuilder::new()
        .with_media_engine(codecs)
        .with_setting_engine(settings)
        .build()
}

async fn new_peer() -> Arc<RTCPeerConnection> {
    Arc::new(
        api()
            .new_peer_connection(RTCConfiguration::default())
            .await
            .expect("peer connection"),
    )
}

/// The local description once gathering is done (the box takes no trickled candidates).
pub async fn gathered(pc: &RTCPeerConnection, description: RTCSessionDescription) -> String {
    let mut done = pc.gathering_complete_promise().await;
    pc.set_local_description(description)
        .await
        .expect("local description");
    let _ = done.recv().await;
    pc.local_description().await.expect("described").sdp
}

/// Publishes `stream` with an audio and/or a video track sending 50 packets a second.
pub struct Publisher {
    pub pc: Arc<RTCPeerConnection>,
    pub sent: Arc<AtomicU64>,
    /// Simulcast layers (by rid) that send nothing for now, as a browser turns layers off.
    silent: Arc<Mutex<HashSet<String>>>,
}

impl Publisher {
    fn new(pc: Arc<RTCPeerConnection>, sent: Arc<AtomicU64>) -> Self {
        Self {
            pc,
            sent,
            silent: Arc::default(),
        }
    }

    /// Stops (`false`) or restarts (`true`) sending the simulcast layer `rid`.
    pub fn send_layer(&self, rid: &str, sending: bool) {
        let mut silent = self.silent.lock().unwrap();
        if sending {
            silent.remove(rid);
        } else {
            silent.insert(rid.to_string());
        }
    }
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Publisher(sent {})", self.sent.load(Ordering::Relaxed))
    }
}

/// An offer to publish, without sending it: for tests of refused offers.
pub async fn publishing_offer(audio: bool, video: bool) -> (Arc<RTCPeerConnection>, String) {
    let pc = new_peer().await;
    let mut tracks: Vec<Arc<TrackLocalStaticRTP>> = Vec::new();
    if audio {
        tracks.push(track(MIME_TYPE_OPUS, "audio"));
    }
    if video {
        tracks.push(track(MIME_TYPE_VP8, "video"));
    }
    let sdp = sending_offer(&pc, &tracks).await;
    (pc, sdp)
}

/// Adds `tracks` to `pc` as send-only transceivers and returns the gathered offer.
pub async fn sending_offer(pc: &RTCPeerConnection, tracks: &[Arc<TrackLocalStaticRTP>]) -> String {
    for t in tracks {
        let init = RTCRtpTransceiverInit {
            direction: RTCRtpTransceiverDirection::Sendonly,
            send_encodings: Vec::new(),
        };
        pc.add_transceiver_from_track(t.clone() as Arc<dyn TrackLocal + Send + Sync>, Some(init))
            .await
            .expect("track added");
    }
    let offer = pc.create_offer(None).await.expect("offer");
    gathered(pc, offer).await
}

/// A track to send with `mime`'s codec (the box forwards any payload).
pub fn track(mime: &str, id: &str) -> Arc<TrackLocalStaticRTP> {
    Arc::new(TrackLocalStaticRTP::new(
        RTCRtpCodecCapability {
            mime_type: mime.to_string(),
            ..Default::default()
        },
        id.to_string(),
        "tavla-test".to_string(),
    ))
}

/// Publishes and waits for the box's answer; `Err` holds the box's refusal.
pub async fn publish(
    socket: &mut Socket,
    stream: &str,
    audio: bool,
    video: bool,
) -> Result<Publisher, Value> {
    let (pc, sdp) = publishing_offer(audio, video).await;
    offer_to_publish(socket, &pc, stream, sdp).await?;
    let sent = Arc::new(AtomicU64::new(0));
    spawn_sending(&pc, sent.clone()).await;
    Ok(Publisher::new(pc, sent))
}

/// Sends `media_publish` with `sdp` and applies the box's answer; `Err` holds its refusal
/// (and `pc` is closed).
async fn offer_to_publish(
    socket: &mut Socket,
    pc: &RTCPeerConnection,
    stream: &str,
    sdp: String,
) -> Result<(), Value> {
    let request = json!({ "type": "media_publish", "stream": stream, "sdp": sdp });
    send_text(socket, &request.to_string()).await;
    let reply = next_media(socket).await;
    if reply["type"] != "media_answer" {
        let _ = pc.close().await;
        return Err(reply);
    }
    let answer = RTCSessionDescription::answer(reply["sdp"].as_str().expect("sdp").to_string())
        .expect("answer parses");
    pc.set_remote_description(answer)
        .await
        .expect("answer applies");
    Ok(())
}

/// Sends a packet on every track every 20 ms until the peer connection closes.
async fn spawn_sending(pc: &Arc<RTCPeerConnection>, sent: Arc<AtomicU64>) {
    let mut tracks = Vec::new();
    for transceiver in pc.get_transceivers().await {
        if let Some(t) = transceiver.sender().await.track().await {
            tracks.push(t);
        }
    }
    let weak = Arc::downgrade(pc);
    tokio::spawn(async move {
        let mut sequence: u16 = 0;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            tick.tick().await;
            let Some(pc) = weak.upgrade() else { return };
            if pc.connection_state()
                == webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState::Closed
            {
                return;
            }
            sequence = sequence.wrapping_add(1);
            for t in &tracks {
                let Some(writer) = t.as_any().downcast_ref::<TrackLocalStaticRTP>() else {
                    continue;
                };
                let packet = Packet {
                    header: Header {
                        version: 2,
                        sequence_number: sequence,
                        timestamp: u32::from(sequence) * 960,
                        marker: true,
                        ..Default::default()
                    },
                    payload: vec![0x10, 0, 0, 0, 0, 0, 0, 0].into(),
                };
                if writer.write_rtp(&packet).await.is_ok() {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
}

/// Publishes `camera` video in simulcast layers named `rids` (lowest first). Every packet is
/// one VP8 frame whose payload names its layer (byte 2); every 10th is a keyframe. Layer `i`
/// sends `i + 1` packets per 20 ms, so the box ranks them by bitrate in this order. Layers in
/// `silent` send nothing until [`Publisher::send_layer`] turns them on. As a browser's do,
/// the packets carry a header extension of the sender's own beside mid and rid, so their
/// extension block is padded.
pub async fn publish_simulcast(
    socket: &mut Socket,
    rids: &[&str],
    silent: &[&str],
) -> Result<Publisher, Value> {
    let pc = new_peer().await;
    let layers: Vec<Arc<TrackLocalStaticRTP>> = rids
        .iter()
        .map(|rid| {
            Arc::new(TrackLocalStaticRTP::new_with_rid(
                RTCRtpCodecCapability {
                    mime_type: MIME_TYPE_VP8.to_string(),
                    ..Default::default()
                },
                "video".to_string(),
                rid.to_string(),
                "tavla-test".to_string(),
            ))
        })
        .collect();
    let sender = pc
        .add_track(layers[0].clone() as Arc<dyn TrackLocal + Send + Sync>)
        .await
        .expect("first layer");
    for layer in &layers[1..] {
        sender
            .add_encoding(layer.clone() as Arc<dyn TrackLocal + Send + Sync>)
            .await
            .expect("more layers");
    }
    let offer = pc.create_offer(None).await.expect("offer");
    let sdp = gathered(&pc, offer).await;
    offer_to_publish(socket, &pc, "camera", sdp).await?;
    let publisher = Publisher::new(pc, Arc::new(AtomicU64::new(0)));
    for rid in silent {
        publisher.send_layer(rid, false);
    }
    let (weak, count, silent) = (
        Arc::downgrade(&publisher.pc),
        publisher.sent.clone(),
        publisher.silent.clone(),
    );
    let rids: Vec<String> = rids.iter().map(|r| r.to_string()).collect();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut sequences = vec![0u16; layers.len()];
        let mut frame: u32 = 0;
        loop {
            tick.tick().await;
            if weak.upgrade().is_none() {
                return;
            }
            frame += 1;
            for (i, layer) in layers.iter().enumerate() {
                if silent.lock().unwrap().contains(&rids[i]) {
                    continue;
                }
                for _ in 0..=i {
                    sequences[i] = sequences[i].wrapping_add(1);
                    // VP8 descriptor: S=1, partition 0; frame header bit 0 clear = keyframe.
                    let key = if frame.is_multiple_of(10) { 0x00 } else { 0x01 };
                    let packet = Packet {
                        header: Header {
                            version: 2,
                            sequence_number: sequences[i],
                            timestamp: frame * 1800,
                            marker: true,
                            extension: true,
                            extension_profile: ONE_BYTE_EXTENSIONS,
                            extensions: vec![Extension {
                                id: 14,
                                payload: vec![7].into(),
                            }],
                            ..Default::default()
                        },
                        payload: vec![0x10, key, i as u8, 0, 0, 0, 0, 0].into(),
                    };
                    if layer.write_rtp(&packet).await.is_ok() {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    });
    Ok(publisher)
}

/// RFC 8285's one-byte header extension profile.
const ONE_BYTE_EXTENSIONS: u16 = 0xBEDE;

/// Receives what the box offers; counts packets and names the streams they belong to.
pub struct Watcher {
    pub pc: Arc<RTCPeerConnection>,
    pub packets: Arc<AtomicU64>,
    /// The stream id of every track received (`camera.teacher`, `talk.<participant>`, …).
    pub streams: Arc<Mutex<Vec<String>>>,
    /// Every video packet received: its sequence number and payload byte 2 (the layer, for
    /// [`publish_simulcast`]).
    pub video: Arc<Mutex<Vec<(u16, u8)>>>,
    /// The SSRC of the last video track received.
    pub video_ssrc: Arc<AtomicU64>,
}

impl Watcher {
    pub async fn new() -> Self {
        let pc = new_peer().await;
        let packets = Arc::new(AtomicU64::new(0));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let video = Arc::new(Mutex::new(Vec::new()));
        let video_ssrc = Arc::new(AtomicU64::new(0));
        let (count, names, log, ssrc) = (
            packets.clone(),
            streams.clone(),
            video.clone(),
            video_ssrc.clone(),
        );
        pc.on_track(Box::new(move |remote, _, _| {
            names.lock().unwrap().push(remote.stream_id());
            let is_video = remote.kind() == RTPCodecType::Video;
            if is_video {
                ssrc.store(u64::from(remote.ssrc()), Ordering::Relaxed);
            }
            let (count, log) = (count.clone(), log.clone());
            tokio::spawn(async move {
                while let Ok((packet, _)) = remote.read_rtp().await {
                    count.fetch_add(1, Ordering::Relaxed);
                    if is_video {
                        let layer = packet.payload.get(2).copied().unwrap_or(0);
                        log.lock()
                            .unwrap()
                            .push((packet.header.sequence_number, layer));
                    }
                }
            });
            Box::pin(async {})
        }));
        Self {
            pc,
            packets,
            streams,
            video,
            video_ssrc,
        }
    }

    /// Asks to receive `sources`.
    pub async fn ask(&self, socket: &mut Socket, sources: &[&str]) {
        let request = json!({ "type": "media_watch", "sources": sources });
        send_text(socket, &request.to_string()).await;
    }

    /// Answers one `media_offer` (already read from the socket).
    pub async fn answer(&self, socket: &mut Socket, offer: &Value) {
        let sdp = offer["sdp"].as_str().expect("offer sdp").to_string();
        let offer = RTCSessionDescription::offer(sdp).expect("offer parses");
        self.pc
            .set_remote_description(offer)
            .await
            .expect("offer applies");
        let answer = self.pc.create_answer(None).await.expect("answer");
        let sdp = gathered(&self.pc, answer).await;
        let reply = json!({ "type": "media_answer", "sdp": sdp });
        send_text(socket, &reply.to_string()).await;
    }

    /// A new watcher that asks for `sources` and answers until `tracks` tracks arrived.
    pub async fn watching(socket: &mut Socket, sources: &[&str], tracks: usize) -> Self {
        let watcher = Self::new().await;
        watcher.ask(socket, sources).await;
        watcher.receive_from(socket, tracks).await;
        watcher
    }

    /// Answers offers until `tracks` tracks arrived and packets flow.
    pub async fn receive_from(&self, socket: &mut Socket, tracks: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if self.packets.load(Ordering::Relaxed) > 0
                && self.streams.lock().unwrap().len() >= tracks
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no media within 20 s"
            );
            match tokio::time::timeout(Duration::from_millis(50), next_json(socket)).await {
                Ok(message) if message["type"] == "media_offer" => {
                    self.answer(socket, &message).await
                }
                Ok(message) if message["type"] == "media_refused" => {
                    panic!("refused: {message}")
                }
                _ => {}
            }
        }
    }

    /// The layer byte of the last video packet received.
    pub fn last_layer(&self) -> Option<u8> {
        self.video.lock().unwrap().last().map(|(_, layer)| *layer)
    }

    /// Tells the box, as receiver reports, that `fraction_lost` (of 256) of the video is lost.
    pub async fn report_loss(&self, fraction_lost: u8) {
        use webrtc::rtcp::receiver_report::ReceiverReport;
        use webrtc::rtcp::reception_report::ReceptionReport;
        let report = ReceiverReport {
            ssrc: 1,
            reports: vec![ReceptionReport {
                ssrc: self.video_ssrc.load(Ordering::Relaxed) as u32,
                fraction_lost,
                ..Default::default()
            }],
            ..Default::default()
        };
        let _ = self.pc.write_rtcp(&[Box::new(report)]).await;
    }
}

/// The next media message (skipping presence, hands and the like).
pub async fn next_media(socket: &mut Socket) -> Value {
    loop {
        let message = next_json(socket).await;
        if message["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("media_"))
        {
            return message;
        }
    }
}
