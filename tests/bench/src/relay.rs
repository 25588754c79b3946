//! A lesson's stream across rooms: the teacher publishes on box A (the synthetic camera of
//! [`crate::media`]); `n` pupils watch either on A itself (the peer: no relay, A sends a copy per
//! viewer) or on box B, paired with A and receiving the class, which takes the stream from A
//! once and forwards it to them. Measured on A: its CPU and the RTP it sends to its receivers
//! (the viewers' own count when they watch on A; B's count of what arrived from A when they
//! watch on B), and on B its CPU and what its viewers receive.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tavla_e2e::rtc::api;

use crate::boxes::{pair, share};
use crate::media::{join_viewers, publish, Tally};
use crate::servers::{BoxError, Layout, Server};

pub const VIEWERS: [usize; 2] = [1, 20];

/// One way of serving `viewers` pupils.
pub struct Served {
    pub viewers: usize,
    pub relayed: bool,
    /// Cores box A used while the viewers watched.
    pub origin_cores: f64,
    /// RTP bits per second box A sent towards the viewers.
    pub origin_bits_per_second: f64,
    /// Cores box B used (relayed only).
    pub relay_cores: Option<f64>,
    /// RTP bits per second all viewers received together.
    pub viewers_bits_per_second: f64,
    pub lost: u64,
    pub received: u64,
}

/// One measuring window.
struct Measured {
    origin_cores: f64,
    relayed_bits_per_second: f64,
    relay_cores: Option<f64>,
    viewers_bits_per_second: f64,
    received: u64,
    lost: u64,
}

/// RTP bytes box B received from A, if it relays.
async fn relay_bytes(relay: Option<&Server>) -> u64 {
    match relay {
        Some(b) => b
            .metric("tavla_media_relay_bytes_received")
            .await
            .unwrap_or(0),
        None => 0,
    }
}

/// Measures while the viewers watch, after they settled.
async fn measure(
    origin: &Server,
    relay: Option<&Server>,
    tally: &Arc<Mutex<Tally>>,
    seconds: f64,
) -> Measured {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (origin_cpu, relay_cpu, relayed_before) = (
        origin.cpu_seconds(),
        relay.map(Server::cpu_seconds),
        relay_bytes(relay).await,
    );
    let started = Instant::now();
    tally.lock().unwrap().measuring = true;
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    let (bytes, received, lost) = {
        let mut t = tally.lock().unwrap();
        t.measuring = false;
        (t.bytes, t.received, t.lost)
    };
    let elapsed = started.elapsed().as_secs_f64();
    let relayed = relay_bytes(relay).await - relayed_before;
    Measured {
        origin_cores: (origin.cpu_seconds() - origin_cpu) / elapsed,
        relayed_bits_per_second: relayed as f64 * 8.0 / elapsed,
        relay_cores: relay
            .zip(relay_cpu)
            .map(|(s, before)| (s.cpu_seconds() - before) / elapsed),
        viewers_bits_per_second: bytes as f64 * 8.0 / elapsed,
        received,
        lost,
    }
}

/// `n` viewers watching on box A itself.
pub async fn direct(binary: &std::path::Path, n: usize, seconds: f64) -> Result<Served, BoxError> {
    let (a, _) = Server::tavla(binary, &Layout::OneDoc(n)).await?;
    let api = Arc::new(api());
    let epoch = Instant::now();
    let publishing = publish(&a, &api, epoch).await?;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let seats: Vec<_> = a.pupils_ws.iter().take(n).cloned().collect();
    let peers = join_viewers(&api, a.connector.clone(), &seats, &tally, epoch).await?;
    let m = measure(&a, None, &tally, seconds).await;
    for (pc, _) in peers {
        let _ = pc.close().await;
    }
    publishing.stop().await;
    a.stop().await;
    Ok(Served {
        viewers: n,
        relayed: false,
        origin_cores: m.origin_cores,
        // Every viewer's copy left A.
        origin_bits_per_second: m.viewers_bits_per_second,
        relay_cores: None,
        viewers_bits_per_second: m.viewers_bits_per_second,
        lost: m.lost,
        received: m.received,
    })
}

/// `n` viewers watching on box B, which relays A's lesson.
pub async fn relayed(binary: &std::path::Path, n: usize, seconds: f64) -> Result<Served, BoxError> {
    // Boxes sync at their default pace (every 10 s): pairing and sharing are pushed at once,
    // and a sync every 200 ms would add its own CPU to A's.
    let (a, _) = Server::tavla(binary, &Layout::OneDoc(0)).await?;
    let (b, _) = Server::tavla(binary, &Layout::OneDoc(n)).await?;
    let b_on_a = pair(&a, &b).await?;
    share(&a, &b_on_a, a.class_id.as_deref().ok_or("no class")?).await?;
    let lesson_code = a.lesson_code.clone().ok_or("no lesson")?;
    let mut seats = Vec::with_capacity(n);
    for i in 0..n {
        // The lesson arrives with B's next round.
        let mut seat = b.join(&lesson_code, &format!("Hjemme {i}")).await;
        for _ in 0..100 {
            if seat.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            seat = b.join(&lesson_code, &format!("Hjemme {i}")).await;
        }
        seats.push(seat?);
    }
    let api = Arc::new(api());
    let epoch = Instant::now();
    let publishing = publish(&a, &api, epoch).await?;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let peers = join_viewers(&api, b.connector.clone(), &seats, &tally, epoch).await?;
    let relays = a.metric("tavla_media_relays_out").await.unwrap_or(0);
    if relays != 1 {
        return Err(format!("A sends {relays} relays, not one").into());
    }
    let m = measure(&a, Some(&b), &tally, seconds).await;
    for (pc, _) in peers {
        let _ = pc.close().await;
    }
    publishing.stop().await;
    b.stop().await;
    a.stop().await;
    Ok(Served {
        viewers: n,
        relayed: true,
        origin_cores: m.origin_cores,
        origin_bits_per_second: m.relayed_bits_per_second,
        relay_cores: m.relay_cores,
        viewers_bits_per_second: m.viewers_bits_per_second,
        lost: m.lost,
        received: m.received,
    })
}
