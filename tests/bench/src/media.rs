//! Live-lesson viewers: one publisher sends a synthetic 720p30 video (~1.5 Mbit/s: 30 frames
//! of ~6 packets a second) and Opus-sized audio (50 packets a second) through Tavla's SFU to
//! `n` viewers, each a webrtc-rs peer connection signaling over `/ws`. Every packet carries
//! its send time and a per-track counter, so viewers measure forwarding latency and loss.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use webrtc::api::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use webrtc::api::API;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtp::header::Header;
use webrtc::rtp::packet::Packet;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::TrackLocalWriter;
use webrtc::util::MarshalSize;

use tavla_e2e::rtc::{api, gathered, sending_offer, track};

use crate::messages::{next_json, open, Socket};
use crate::servers::{BoxError, Server};

const VIDEO_BITS_PER_SECOND: usize = 1_500_000;
const FRAMES_PER_SECOND: usize = 30;
const VIDEO_PAYLOAD: usize = 1100;
const AUDIO_PAYLOAD: usize = 160;
/// Viewers connecting at once; more only queue on the 2 cores.
const CONNECTING_AT_ONCE: usize = 10;

pub struct ViewersResult {
    pub viewers: usize,
    pub seconds: f64,
    pub cpu_seconds: f64,
    pub rss_publisher_only_mib: f64,
    pub rss_watching_mib: f64,
    pub rss_after_leaving_mib: f64,
    /// Packets the viewers received per second, all together.
    pub packets_per_second: f64,
    pub latencies_us: Vec<u64>,
    /// Packets a viewer never received (counter gaps), over all viewers.
    pub lost: u64,
    pub received: u64,
    pub peers_after_leaving: Option<u64>,
}

async fn next_of(socket: &mut Socket, kind: &str) -> Result<serde_json::Value, BoxError> {
    loop {
        let message = next_json(socket).await?;
        if message["type"] == kind {
            return Ok(message);
        }
        if message["type"] == "media_refused" {
            return Err(format!("refused: {message}").into());
        }
    }
}

/// What every viewer records, shared.
#[derive(Default)]
pub struct Tally {
    pub latencies_us: Vec<u64>,
    pub received: u64,
    /// RTP bytes (header and payload) received.
    pub bytes: u64,
    pub lost: u64,
    pub measuring: bool,
}

/// The teacher's camera going out from `server`: the publishing peer connection and the task
/// sending its packets.
pub struct Publishing {
    publisher: RTCPeerConnection,
    sending: tokio::task::JoinHandle<()>,
}

impl Publishing {
    pub async fn stop(self) {
        self.sending.abort();
        let _ = self.publisher.close().await;
    }
}

/// The teacher on `server` publishes the camera: synthetic video and audio from now on.
pub async fn publish(server: &Server, api: &API, epoch: Instant) -> Result<Publishing, BoxError> {
    let mut teacher = open(
        server.connector.clone(),
        server.teacher_ws.as_ref().ok_or("Tavla only")?,
    )
    .await?;
    let publisher = api.new_peer_connection(RTCConfiguration::default()).await?;
    let video = track(MIME_TYPE_VP8, "video");
    let audio = track(MIME_TYPE_OPUS, "audio");
    let sdp = sending_offer(&publisher, &[video.clone(), audio.clone()]).await;
    let publish = json!({ "type": "media_publish", "stream": "camera", "sdp": sdp });
    teacher
        .send(Message::Text(publish.to_string().into()))
        .await?;
    let answer = next_of(&mut teacher, "media_answer").await?;
    publisher
        .set_remote_description(RTCSessionDescription::answer(
            answer["sdp"].as_str().unwrap_or_default().to_string(),
        )?)
        .await?;
    let sending = tokio::spawn(send_media(video, audio, epoch));
    tokio::spawn(async move { while next_json(&mut teacher).await.is_ok() {} });
    Ok(Publishing { publisher, sending })
}

/// A viewer's peer connection and the socket it signals on.
pub type Viewer = (Arc<RTCPeerConnection>, Socket);

/// Viewers on `seats` (pupils' `/ws` of `connector`'s box) join, a few at a time, and receive
/// both tracks; what they receive is counted in `tally` while it is measuring.
pub async fn join_viewers(
    api: &Arc<API>,
    connector: Option<tokio_tungstenite::Connector>,
    seats: &[crate::servers::Seat],
    tally: &Arc<Mutex<Tally>>,
    epoch: Instant,
) -> Result<Vec<Viewer>, BoxError> {
    let gate = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let mut joining = Vec::new();
    for seat in seats {
        let (api, gate, connector, tally, seat) = (
            api.clone(),
            gate.clone(),
            connector.clone(),
            tally.clone(),
            seat.clone(),
        );
        joining.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            let socket = open(connector, &seat).await?;
            viewer(&api, socket, tally, epoch).await
        }));
    }
    let mut peers = Vec::new();
    for j in joining {
        peers.push(j.await??);
    }
    Ok(peers)
}

pub async fn viewers(server: &Server, n: usize, seconds: f64) -> Result<ViewersResult, BoxError> {
    let api = Arc::new(api());
    let epoch = Instant::now();
    let publishing = publish(server, &api, epoch).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_publisher_only_mib = server.memory_mib().0;

    let tally = Arc::new(Mutex::new(Tally::default()));
    let seats: Vec<_> = server.pupils_ws.iter().take(n).cloned().collect();
    let peers = join_viewers(&api, server.connector.clone(), &seats, &tally, epoch).await?;
    // Settle (keyframe requests, renegotiation), then measure.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu_before = server.cpu_seconds();
    let started = Instant::now();
    tally.lock().unwrap().measuring = true;
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    let (latencies, received, lost) = {
        let mut t = tally.lock().unwrap();
        t.measuring = false;
        (std::mem::take(&mut t.latencies_us), t.received, t.lost)
    };
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_seconds = server.cpu_seconds() - cpu_before;
    let rss_watching_mib = server.memory_mib().0;

    // Everyone leaves; the box should give the memory back.
    for (pc, socket) in peers {
        let _ = pc.close().await;
        drop(socket);
    }
    let mut peers_after_leaving = server.metric("tavla_media_peers").await;
    for _ in 0..100 {
        if peers_after_leaving == Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        peers_after_leaving = server.metric("tavla_media_peers").await;
    }
    // The box gives freed memory back 2 s after the last peer left.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after_leaving_mib = server.memory_mib().0;
    publishing.stop().await;
    let mut latencies = latencies;
    latencies.sort_unstable();
    Ok(ViewersResult {
        viewers: n,
        seconds: elapsed,
        cpu_seconds,
        rss_publisher_only_mib,
        rss_watching_mib,
        rss_after_leaving_mib,
        packets_per_second: received as f64 / elapsed,
        latencies_us: latencies,
        lost,
        received,
        peers_after_leaving: peers_after_leaving.map(|p| p.saturating_sub(1)),
    })
}

/// Payload: send time (µs since `epoch`) and the track's packet counter, then padding.
fn payload(size: usize, epoch: Instant, counter: u32) -> bytes::Bytes {
    let mut p = vec![0u8; size];
    p[..8].copy_from_slice(&(epoch.elapsed().as_micros() as u64).to_be_bytes());
    p[8..12].copy_from_slice(&counter.to_be_bytes());
    p.into()
}

async fn send_media(
    video: Arc<TrackLocalStaticRTP>,
    audio: Arc<TrackLocalStaticRTP>,
    epoch: Instant,
) {
    let per_frame = VIDEO_BITS_PER_SECOND / 8 / FRAMES_PER_SECOND / VIDEO_PAYLOAD;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let (mut video_count, mut audio_count, mut ticks) = (0u32, 0u32, 0u64);
    loop {
        tick.tick().await;
        ticks += 1;
        // Every 20 ms an audio packet; every 33 ms a video frame of `per_frame` packets.
        if ticks % 2 == 0 {
            audio_count += 1;
            let _ = audio
                .write_rtp(&packet(
                    audio_count,
                    payload(AUDIO_PAYLOAD, epoch, audio_count),
                    true,
                ))
                .await;
        }
        if ticks * 10 * FRAMES_PER_SECOND as u64 / 1000
            != (ticks - 1) * 10 * FRAMES_PER_SECOND as u64 / 1000
        {
            for i in 0..per_frame {
                video_count += 1;
                let last = i + 1 == per_frame;
                let _ = video
                    .write_rtp(&packet(
                        video_count,
                        payload(VIDEO_PAYLOAD, epoch, video_count),
                        last,
                    ))
                    .await;
            }
        }
    }
}

fn packet(counter: u32, payload: bytes::Bytes, marker: bool) -> Packet {
    Packet {
        header: Header {
            version: 2,
            sequence_number: counter as u16,
            timestamp: counter.wrapping_mul(3000),
            marker,
            ..Default::default()
        },
        payload,
    }
}

/// One viewer: asks for the lesson, answers offers until both tracks arrive, then counts.
async fn viewer(
    api: &API,
    mut socket: Socket,
    tally: Arc<Mutex<Tally>>,
    epoch: Instant,
) -> Result<(Arc<RTCPeerConnection>, Socket), BoxError> {
    let pc = Arc::new(api.new_peer_connection(RTCConfiguration::default()).await?);
    let (arrived_tx, mut arrived) = tokio::sync::mpsc::unbounded_channel();
    pc.on_track(Box::new(move |remote, _, _| {
        let tally = tally.clone();
        let _ = arrived_tx.send(());
        tokio::spawn(async move {
            let mut last: HashMap<u32, u32> = HashMap::new();
            while let Ok((packet, _)) = remote.read_rtp().await {
                let p = &packet.payload;
                if p.len() < 12 {
                    continue;
                }
                let sent = u64::from_be_bytes(p[..8].try_into().unwrap_or_default());
                let counter = u32::from_be_bytes(p[8..12].try_into().unwrap_or_default());
                let now = epoch.elapsed().as_micros() as u64;
                let gap = last
                    .insert(packet.header.ssrc, counter)
                    .map_or(0, |before| counter.saturating_sub(before + 1));
                let mut t = tally.lock().unwrap();
                if t.measuring {
                    t.received += 1;
                    t.bytes += (packet.header.marshal_size() + packet.payload.len()) as u64;
                    t.lost += u64::from(gap);
                    t.latencies_us.push(now.saturating_sub(sent));
                }
            }
        });
        Box::pin(async {})
    }));
    let watch = json!({ "type": "media_watch", "sources": ["lesson"] });
    socket.send(Message::Text(watch.to_string().into())).await?;
    let mut tracks = 0;
    while tracks < 2 {
        let offer =
            tokio::time::timeout(Duration::from_secs(30), next_of(&mut socket, "media_offer"))
                .await??;
        pc.set_remote_description(RTCSessionDescription::offer(
            offer["sdp"].as_str().unwrap_or_default().to_string(),
        )?)
        .await?;
        let answer = pc.create_answer(None).await?;
        let sdp = gathered(&pc, answer).await;
        let reply = json!({ "type": "media_answer", "sdp": sdp });
        socket.send(Message::Text(reply.to_string().into())).await?;
        while tokio::time::timeout(Duration::from_secs(5), arrived.recv())
            .await
            .ok()
            .flatten()
            .is_some()
        {
            tracks += 1;
            if tracks == 2 {
                break;
            }
        }
    }
    Ok((pc, socket))
}
