//! Simulcast: a publisher sends its camera in several layers (rids: full, half and quarter
//! size); each subscriber gets one layer, picked from how its connection is doing, so a weak
//! home connection gets the low layer instead of freezing. Switching happens only at a
//! keyframe of the new layer, and sequence numbers and timestamps are rewritten so the
//! subscriber sees one continuous stream.
//!
//! The estimate is loss-based (as the loss half of Google's congestion control): RTCP
//! receiver reports' fraction lost, capped by REMB when the browser sends one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use webrtc::rtp::packet::Packet;

use super::keyframes::Keyframes;

/// Loss above this in two reports in a row: one layer down.
const LOSS_HIGH: f64 = 0.10;
/// Loss below this for [`GOOD_FOR`]: one layer up.
const LOSS_LOW: f64 = 0.02;
const GOOD_FOR: Duration = Duration::from_secs(8);
/// A layer is used only when the estimate leaves this much room above its bitrate.
const HEADROOM: f64 = 1.15;
/// RTP timestamp step assumed between the last frame of the old layer and the first of the
/// new one (one frame at 30 fps on the 90 kHz video clock).
const SWITCH_TIMESTAMP_STEP: u32 = 3000;

/// Packets of a layer waiting for a slow subscriber; one that falls further behind skips
/// ahead and waits for a keyframe.
const BACKLOG: usize = 256;
/// A layer with no packet for this long is not arriving: a browser turns its top layer off
/// for a small camera (Chromium sends two of three for 640×480) or when its CPU or uplink is
/// short, and turns it on again later. Viewers move to the best layer that arrives.
pub const STALE_AFTER: Duration = Duration::from_millis(1500);

/// The layers of one simulcast track and the packets of all of them, for every subscriber's
/// [`super::forward::down_track`] to pick from.
pub struct Simulcast {
    pub mime_type: String,
    packets: broadcast::Sender<Arc<LayerPacket>>,
    layers: Mutex<Vec<Arc<Layer>>>,
    /// The clock of the layers' `last_packet`.
    epoch: Instant,
}

pub struct Layer {
    pub rid: String,
    keyframes: Keyframes,
    bytes: AtomicU64,
    since: Instant,
    live: AtomicBool,
    /// When its last packet came, in ms since the track's epoch.
    last_packet_ms: AtomicU64,
}

pub struct LayerPacket {
    /// The layer's index in arrival order (stable; not its rank by bitrate).
    pub layer: usize,
    pub packet: Packet,
}

impl Simulcast {
    pub fn new(mime_type: String) -> Self {
        Self {
            mime_type,
            packets: broadcast::channel(BACKLOG).0,
            layers: Mutex::new(Vec::new()),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn layers(&self) -> MutexGuard<'_, Vec<Arc<Layer>>> {
        self.layers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A layer started arriving; returns its index. A rid seen before (the publisher
    /// renegotiated) keeps its index.
    pub fn add_layer(&self, rid: &str, keyframes: Keyframes) -> usize {
        let mut layers = self.layers();
        let layer = Arc::new(Layer {
            rid: rid.to_string(),
            keyframes,
            bytes: AtomicU64::new(0),
            since: Instant::now(),
            live: AtomicBool::new(true),
            last_packet_ms: AtomicU64::new(self.now_ms()),
        });
        match layers.iter().position(|l| l.rid == rid) {
            Some(at) => {
                layers[at] = layer;
                at
            }
            None => {
                layers.push(layer);
                layers.len() - 1
            }
        }
    }

    /// A layer stopped; true when none is left.
    pub fn end_layer(&self, layer: usize) -> bool {
        let layers = self.layers();
        if let Some(l) = layers.get(layer) {
            l.live.store(false, Ordering::Relaxed);
        }
        !layers.iter().any(|l| l.live.load(Ordering::Relaxed))
    }

    pub fn send(&self, layer: usize, packet: Packet) {
        if let Some(l) = self.layers().get(layer) {
            l.bytes
                .fetch_add(packet.payload.len() as u64, Ordering::Relaxed);
            l.last_packet_ms.store(self.now_ms(), Ordering::Relaxed);
        }
        // No subscriber yet is fine.
        let _ = self.packets.send(Arc::new(LayerPacket { layer, packet }));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LayerPacket>> {
        self.packets.subscribe()
    }

    /// How many layers the track has had (arriving or not): the picker's scale.
    pub fn layer_count(&self) -> usize {
        self.layers().len()
    }

    /// The layers arriving now, lowest bitrate first, with their bitrates (bits/s since they
    /// started).
    pub fn ranked(&self) -> Vec<(usize, f64)> {
        let stale_before = self.now_ms().saturating_sub(STALE_AFTER.as_millis() as u64);
        let mut ranked: Vec<(usize, f64)> = self
            .layers()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.live.load(Ordering::Relaxed))
            .filter(|(_, l)| l.last_packet_ms.load(Ordering::Relaxed) >= stale_before)
            .map(|(i, l)| {
                let seconds = l.since.elapsed().as_secs_f64().max(0.1);
                (i, l.bytes.load(Ordering::Relaxed) as f64 * 8.0 / seconds)
            })
            .collect();
        ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
        ranked
    }

    pub async fn request_keyframe(&self, layer: usize) {
        let target = self.layers().get(layer).cloned();
        if let Some(layer) = target {
            layer.keyframes.request().await;
        }
    }
}

/// Does this RTP payload start a keyframe? (VP8 and H.264, the codecs browsers simulcast.)
pub fn keyframe_start(mime_type: &str, payload: &[u8]) -> bool {
    let mime = mime_type.to_ascii_lowercase();
    if mime.ends_with("/vp8") {
        vp8_keyframe_start(payload)
    } else if mime.ends_with("/h264") {
        h264_keyframe_start(payload)
    } else {
        false
    }
}

/// RFC 7741: the payload descriptor, then the VP8 frame header whose first bit is 0 for a
/// keyframe, in the packet with S=1 and partition 0.
fn vp8_keyframe_start(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else {
        return false;
    };
    let extended = first & 0x80 != 0;
    let start = first & 0x10 != 0;
    let partition = first & 0x07;
    if !start || partition != 0 {
        return false;
    }
    let mut at = 1;
    if extended {
        let Some(&x) = payload.get(1) else {
            return false;
        };
        at = 2;
        if x & 0x80 != 0 {
            // Picture id: one byte, or two when its M bit is set.
            let Some(&id) = payload.get(at) else {
                return false;
            };
            at += if id & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            at += 1;
        }
        if x & 0x30 != 0 {
            at += 1;
        }
    }
    payload.get(at).is_some_and(|header| header & 0x01 == 0)
}

/// RFC 6184: an IDR slice or a parameter set (which precedes one), alone, in a STAP-A, or at
/// the start of a fragmented unit.
fn h264_keyframe_start(payload: &[u8]) -> bool {
    const IDR: u8 = 5;
    const SPS: u8 = 7;
    const STAP_A: u8 = 24;
    const FU_A: u8 = 28;
    let Some(&first) = payload.first() else {
        return false;
    };
    match first & 0x1f {
        IDR | SPS => true,
        STAP_A => payload
            .get(3)
            .is_some_and(|nal| matches!(nal & 0x1f, IDR | SPS)),
        FU_A => payload
            .get(1)
            .is_some_and(|fu| fu & 0x80 != 0 && (fu & 0x1f) == IDR),
        _ => false,
    }
}

/// The layer a picker's `rank` (0 = lowest of all the track's layers) means among the layers
/// arriving now (`ranked`, lowest first): the same one, or the best below it when the layers
/// above have stopped. None when nothing arrives.
pub fn layer_at(ranked: &[(usize, f64)], rank: usize) -> Option<usize> {
    ranked
        .get(rank.min(ranked.len().saturating_sub(1)))
        .map(|(layer, _)| *layer)
}

/// Picks a subscriber's layer (0 = lowest) from its receiver reports.
#[derive(Debug)]
pub struct LayerPicker {
    target: usize,
    lossy_reports: u32,
    good_since: Option<Instant>,
}

impl Default for LayerPicker {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerPicker {
    /// Starts on the highest layer there is, also one that starts arriving later: on the
    /// classroom LAN that is right, and a weak connection shows loss within two reports (a
    /// second or two).
    pub fn new() -> Self {
        Self {
            target: usize::MAX,
            lossy_reports: 0,
            good_since: None,
        }
    }

    pub fn target(&self) -> usize {
        self.target
    }

    /// A receiver report said `fraction_lost` (of 256); `affordable` is the highest layer
    /// the bandwidth estimate allows (all when there is none). Returns the new target.
    pub fn on_report(
        &mut self,
        fraction_lost: u8,
        layers: usize,
        affordable: Option<usize>,
        now: Instant,
    ) -> usize {
        let top = layers.saturating_sub(1);
        let loss = f64::from(fraction_lost) / 256.0;
        if loss > LOSS_HIGH {
            self.good_since = None;
            self.lossy_reports += 1;
            if self.lossy_reports >= 2 {
                self.target = self.target.saturating_sub(1);
                self.lossy_reports = 0;
            }
        } else if loss < LOSS_LOW {
            self.lossy_reports = 0;
            let since = *self.good_since.get_or_insert(now);
            if now.duration_since(since) >= GOOD_FOR && self.target < top {
                self.target += 1;
                self.good_since = Some(now);
            }
        } else {
            self.lossy_reports = 0;
            self.good_since = None;
        }
        self.target = self.target.min(top).min(affordable.unwrap_or(top));
        self.target
    }
}

/// The highest layer whose bitrate fits under `estimate` bits/s (the lowest if none does).
/// `bitrates` are the layers' measured bitrates, lowest layer first.
pub fn affordable(bitrates: &[f64], estimate: f64) -> usize {
    bitrates
        .iter()
        .rposition(|&rate| rate * HEADROOM <= estimate)
        .unwrap_or(0)
}

/// Turns packets of several layers into one continuous stream for one subscriber.
#[derive(Debug, Default)]
pub struct Rewriter {
    current: Option<usize>,
    seq_offset: u16,
    ts_offset: u32,
    last: Option<(u16, u32)>,
}

impl Rewriter {
    pub fn current(&self) -> Option<usize> {
        self.current
    }

    /// Rewrites `packet` (of `layer`) for the subscriber, or returns false to drop it: it is
    /// of another layer, or of the target layer before its next keyframe.
    pub fn accept(
        &mut self,
        layer: usize,
        target: usize,
        keyframe: bool,
        packet: &mut Packet,
    ) -> bool {
        if self.current != Some(layer) {
            if layer != target || !keyframe {
                return false;
            }
            // Switch: the new layer continues right after the last packet sent.
            let (seq, ts) = (packet.header.sequence_number, packet.header.timestamp);
            (self.seq_offset, self.ts_offset) = match self.last {
                Some((last_seq, last_ts)) => (
                    last_seq.wrapping_add(1).wrapping_sub(seq),
                    last_ts.wrapping_add(SWITCH_TIMESTAMP_STEP).wrapping_sub(ts),
                ),
                None => (0, 0),
            };
            self.current = Some(layer);
        }
        packet.header.sequence_number = packet.header.sequence_number.wrapping_add(self.seq_offset);
        packet.header.timestamp = packet.header.timestamp.wrapping_add(self.ts_offset);
        let newer = self.last.is_none_or(|(last_seq, _)| {
            packet.header.sequence_number.wrapping_sub(last_seq) < 0x8000
        });
        if newer {
            self.last = Some((packet.header.sequence_number, packet.header.timestamp));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, ts: u32) -> Packet {
        let mut p = Packet::default();
        p.header.sequence_number = seq;
        p.header.timestamp = ts;
        p
    }

    #[test]
    fn finds_vp8_and_h264_keyframes() {
        // S=1, partition 0, no extension; frame header bit 0 clear = keyframe.
        assert!(keyframe_start("video/VP8", &[0x10, 0x00]));
        assert!(!keyframe_start("video/VP8", &[0x10, 0x01]), "inter frame");
        assert!(
            !keyframe_start("video/VP8", &[0x00, 0x00]),
            "not a frame's start"
        );
        // Extended: I with a two-byte picture id, then the frame header.
        assert!(keyframe_start("video/VP8", &[0x90, 0x80, 0x81, 0x23, 0x00]));
        assert!(!keyframe_start(
            "video/VP8",
            &[0x90, 0x80, 0x81, 0x23, 0x01]
        ));
        assert!(keyframe_start("video/H264", &[0x65]));
        assert!(
            keyframe_start("video/H264", &[0x7c, 0x85]),
            "FU-A start of an IDR"
        );
        assert!(!keyframe_start("video/H264", &[0x7c, 0x05]), "FU-A middle");
        assert!(
            keyframe_start("video/H264", &[0x78, 0x00, 0x10, 0x67]),
            "STAP-A with SPS"
        );
        assert!(!keyframe_start("video/H264", &[0x41]));
        assert!(!keyframe_start("video/VP9", &[0x10, 0x00]));
        assert!(!keyframe_start("video/VP8", &[]));
    }

    #[test]
    fn a_switch_waits_for_a_keyframe_and_keeps_the_stream_continuous() {
        let mut r = Rewriter::default();
        let mut p = packet(100, 9000);
        assert!(!r.accept(2, 2, false, &mut p), "no keyframe yet");
        let mut p = packet(100, 9000);
        assert!(r.accept(2, 2, true, &mut p));
        assert_eq!(
            p.header.sequence_number, 100,
            "the first layer passes unchanged"
        );
        let mut p = packet(101, 12000);
        assert!(
            r.accept(2, 0, false, &mut p),
            "the old layer until the new one's keyframe"
        );
        let mut low = packet(5000, 777);
        assert!(!r.accept(0, 0, false, &mut low));
        let mut low = packet(5001, 3777);
        assert!(r.accept(0, 0, true, &mut low));
        assert_eq!(low.header.sequence_number, 102);
        assert_eq!(low.header.timestamp, 15000);
        assert_eq!(r.current(), Some(0));
        let mut high = packet(102, 15000);
        assert!(
            !r.accept(2, 0, false, &mut high),
            "the old layer is dropped after the switch"
        );
        let mut next = packet(5002, 6777);
        assert!(r.accept(0, 0, false, &mut next));
        assert_eq!(
            (next.header.sequence_number, next.header.timestamp),
            (103, 18000)
        );
    }

    #[test]
    fn wraps_around_sequence_numbers() {
        let mut r = Rewriter::default();
        let mut p = packet(65535, 1);
        assert!(r.accept(1, 1, true, &mut p));
        let mut q = packet(10, 1);
        assert!(r.accept(0, 0, true, &mut q));
        assert_eq!(q.header.sequence_number, 0);
    }

    #[test]
    fn loss_steps_down_and_a_quiet_connection_steps_back_up() {
        let start = Instant::now();
        let mut picker = LayerPicker::new();
        assert_eq!(
            layer_at(&[(0, 1.0), (1, 2.0), (2, 3.0)], picker.target()),
            Some(2)
        );
        assert_eq!(
            picker.on_report(60, 3, None, start),
            2,
            "one lossy report is not enough"
        );
        assert_eq!(picker.on_report(60, 3, None, start), 1);
        assert_eq!(picker.on_report(60, 3, None, start), 1);
        assert_eq!(picker.on_report(60, 3, None, start), 0);
        assert_eq!(picker.on_report(0, 3, None, start), 0);
        assert_eq!(
            picker.on_report(0, 3, None, start + Duration::from_secs(4)),
            0
        );
        assert_eq!(picker.on_report(0, 3, None, start + GOOD_FOR), 1);
        assert_eq!(
            picker.on_report(0, 3, Some(0), start + GOOD_FOR),
            0,
            "capped by the estimate"
        );
    }

    #[test]
    fn a_rank_above_the_layers_arriving_means_the_best_that_arrives() {
        let two = [(1, 150_000.0), (0, 500_000.0)];
        assert_eq!(layer_at(&two, 2), Some(0), "the top layer is off: the next");
        assert_eq!(layer_at(&two, 0), Some(1));
        assert_eq!(layer_at(&[], 2), None);
    }

    #[test]
    fn a_layer_that_stops_arriving_leaves_the_ranking() {
        let layers = Simulcast::new("video/VP8".into());
        let quiet = Keyframes::new(std::sync::Weak::new(), 1, true);
        let busy = Keyframes::new(std::sync::Weak::new(), 2, true);
        assert_eq!(layers.add_layer("q", quiet), 0);
        assert_eq!(layers.add_layer("h", busy), 1);
        layers.layers()[0]
            .last_packet_ms
            .store(0, Ordering::Relaxed);
        let later = Instant::now() - STALE_AFTER - Duration::from_millis(10);
        let layers = Simulcast {
            epoch: later,
            ..layers
        };
        layers.send(1, packet(1, 1));
        let ranked: Vec<usize> = layers.ranked().iter().map(|(l, _)| *l).collect();
        assert_eq!(ranked, vec![1], "only the layer whose packets come");
        assert_eq!(layers.layer_count(), 2);
    }

    #[test]
    fn the_estimate_affords_the_highest_layer_that_fits() {
        let rates = [150_000.0, 500_000.0, 1_500_000.0];
        assert_eq!(affordable(&rates, 3_000_000.0), 2);
        assert_eq!(affordable(&rates, 1_000_000.0), 1);
        assert_eq!(affordable(&rates, 50_000.0), 0);
    }
}
