//! Simulated pupils: each a yrs document on a WebSocket speaking plain y-protocols, typing at a
//! steady rate with a cursor (awareness) update per keystroke, as an editor would send.
//!
//! Fan-out latency is measured without clocks in the messages: every client's yrs client id is
//! its index, so a receiver reads (client, clock) off each update it gets and looks up when that
//! keystroke was sent.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::Connector;
use yrs::encoding::read::Cursor;
use yrs::sync::protocol::MessageReader;
use yrs::sync::{Awareness, Message as YMessage, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, OffsetKind, Options, ReadTxn, Text, Transact, Update};

use crate::servers::{BoxError, Seat, Server};

/// When each keystroke was sent: `[client][clock]` in microseconds since the start, plus one
/// (zero means "not sent").
struct SendLog {
    start: Instant,
    sent: Vec<Vec<AtomicU64>>,
}

impl SendLog {
    fn record(&self, client: usize, clock: u32) {
        if let Some(slot) = self.sent.get(client).and_then(|c| c.get(clock as usize)) {
            slot.store(
                self.start.elapsed().as_micros() as u64 + 1,
                Ordering::Relaxed,
            );
        }
    }

    fn latency_us(&self, client: usize, clock: u32, now: Instant) -> Option<u64> {
        let sent = self
            .sent
            .get(client)?
            .get(clock as usize)?
            .load(Ordering::Relaxed);
        (sent > 0).then(|| (now - self.start).as_micros() as u64 + 1 - sent)
    }
}

#[derive(Default)]
struct Totals {
    frames: AtomicU64,
    bytes: AtomicU64,
    keystrokes: AtomicU64,
}

pub struct TypingResult {
    pub clients: usize,
    pub seconds: f64,
    pub latencies_us: Vec<u64>,
    pub frames_per_second: f64,
    pub bytes_per_second: f64,
    pub cpu_seconds: f64,
    pub peak_rss_mib: f64,
    pub lost: usize,
    pub diverged: usize,
    /// Times Tavla sent a lagging connection the whole document (`None`: reference server).
    pub catch_ups: Option<u64>,
    pub keystrokes: u64,
}

struct Client {
    index: usize,
    doc: Doc,
    awareness: Awareness,
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

/// Opens `seat`'s socket and completes the sync handshake.
async fn connect(
    connector: Option<Connector>,
    seat: &Seat,
    index: usize,
) -> Result<Client, BoxError> {
    let mut request = seat.url.as_str().into_client_request()?;
    if let Some(cookie) = &seat.cookie {
        request.headers_mut().insert("cookie", cookie.parse()?);
    }
    let (socket, _) =
        tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector).await?;
    let doc = Doc::with_options(Options {
        client_id: yrs::block::ClientID::new(index as u64 + 1),
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    });
    let mut awareness = Awareness::new(doc.clone());
    awareness.set_local_state(serde_json::json!({
        "user": { "name": format!("Elev {index}"), "color": "#0b4f8a" },
    }))?;
    let mut client = Client {
        index,
        doc,
        awareness,
        socket,
    };
    let step1 = YMessage::Sync(SyncMessage::SyncStep1(client.doc.transact().state_vector()));
    client
        .socket
        .send(Message::Binary(step1.encode_v1().into()))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let message = tokio::time::timeout(remaining, client.socket.next())
            .await?
            .ok_or("closed during the handshake")??;
        if let Message::Binary(bytes) = message {
            if client.handle(&bytes, None, None)? {
                return Ok(client);
            }
        }
    }
}

impl Client {
    /// Applies a server frame; answers its sync step 1. Returns whether it held a sync step 2.
    fn handle(
        &mut self,
        bytes: &[u8],
        log: Option<&SendLog>,
        latencies: Option<&mut Vec<u64>>,
    ) -> Result<bool, BoxError> {
        let now = Instant::now();
        let mut decoder = DecoderV1::new(Cursor::new(bytes));
        let mut step2 = false;
        let mut latencies = latencies;
        for message in MessageReader::new(&mut decoder) {
            match message? {
                YMessage::Sync(SyncMessage::SyncStep2(update)) => {
                    self.apply(&update)?;
                    step2 = true;
                }
                YMessage::Sync(SyncMessage::Update(update)) => {
                    let decoded = Update::decode_v1(&update)?;
                    if let (Some(log), Some(latencies)) = (log, latencies.as_deref_mut()) {
                        // A server may merge several keystrokes into one update: each counts.
                        let first = decoded.state_vector_lower();
                        for (client, end) in decoded.state_vector().iter() {
                            let index = client.get() as usize - 1;
                            if index == self.index {
                                continue;
                            }
                            for clock in first.get(client)..*end {
                                if let Some(us) = log.latency_us(index, clock, now) {
                                    latencies.push(us);
                                }
                            }
                        }
                    }
                    self.doc.transact_mut().apply_update(decoded)?;
                }
                // The reference server may send its own step 1; ours is always complete.
                YMessage::Sync(SyncMessage::SyncStep1(_)) => {}
                _ => {}
            }
        }
        Ok(step2)
    }

    fn apply(&self, update: &[u8]) -> Result<(), BoxError> {
        self.doc
            .transact_mut()
            .apply_update(Update::decode_v1(update)?)?;
        Ok(())
    }

    fn text(&self) -> String {
        self.doc
            .get_or_insert_text("t")
            .get_string(&self.doc.transact())
    }

    /// Types one character at a random place and moves the cursor there: one update frame and
    /// one awareness frame. Returns the keystroke's clock.
    fn keystroke(&mut self, rng: &mut impl Rng) -> Result<(Vec<u8>, Vec<u8>, u32), BoxError> {
        let text = self.doc.get_or_insert_text("t");
        let before = self.doc.transact().state_vector();
        let at = {
            let mut txn = self.doc.transact_mut();
            let len = text.len(&txn);
            let at = rng.random_range(0..=len);
            text.insert(&mut txn, at, "x");
            at
        };
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        let clock = self
            .doc
            .transact()
            .state_vector()
            .get(&self.doc.client_id())
            - 1;
        self.awareness.set_local_state(serde_json::json!({
            "user": { "name": format!("Elev {}", self.index), "color": "#0b4f8a" },
            "cursor": { "anchor": at + 1, "head": at + 1 },
        }))?;
        let frame = YMessage::Sync(SyncMessage::Update(update)).encode_v1();
        let awareness = YMessage::Awareness(self.awareness.update()?).encode_v1();
        Ok((frame, awareness, clock))
    }
}

async fn connect_all(server: &Server, seats: &[Seat]) -> Result<Vec<Client>, BoxError> {
    let gate = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::new();
    for (index, seat) in seats.iter().enumerate() {
        let gate = gate.clone();
        let seat = seat.clone();
        let connector = server.connector.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            connect(connector, &seat, index).await
        }));
    }
    let mut clients = Vec::with_capacity(seats.len());
    for task in tasks {
        clients.push(task.await??);
    }
    Ok(clients)
}

/// `seats.len()` clients type `rate` characters per second each for `seconds`, then wait for
/// everything to arrive everywhere.
pub async fn typing(
    server: &Server,
    seats: &[Seat],
    rate: f64,
    seconds: f64,
) -> Result<TypingResult, BoxError> {
    let clients = connect_all(server, seats).await?;
    let n = clients.len();
    let per_client = (rate * seconds).ceil() as usize + 8;
    let log = Arc::new(SendLog {
        start: Instant::now(),
        sent: (0..n)
            .map(|_| (0..per_client).map(|_| AtomicU64::new(0)).collect())
            .collect(),
    });
    let totals = Arc::new(Totals::default());
    let typing_done = Arc::new(AtomicBool::new(false));
    let cpu_before = server.cpu_seconds();
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut tasks = Vec::new();
    for mut client in clients {
        let (log, totals, typing_done) = (log.clone(), totals.clone(), typing_done.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::from_os_rng();
            let mut latencies = Vec::new();
            // Spread the clients' keystrokes over the interval.
            let first = tokio::time::Instant::now() + interval.mul_f64(rng.random::<f64>());
            let mut ticker = tokio::time::interval_at(first, interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut typed = 0usize;
            let end = tokio::time::Instant::now() + Duration::from_secs_f64(seconds);
            loop {
                tokio::select! {
                    _ = ticker.tick(), if typed < per_client - 8 && tokio::time::Instant::now() < end => {
                        let (frame, awareness, clock) = client.keystroke(&mut rng)?;
                        log.record(client.index, clock);
                        totals.keystrokes.fetch_add(1, Ordering::Relaxed);
                        client.socket.feed(Message::Binary(frame.into())).await?;
                        client.socket.send(Message::Binary(awareness.into())).await?;
                        typed += 1;
                    }
                    message = client.socket.next() => {
                        let Some(message) = message else { return Err::<_, BoxError>("server closed the connection".into()) };
                        if let Message::Binary(bytes) = message? {
                            totals.frames.fetch_add(1, Ordering::Relaxed);
                            totals.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                            client.handle(&bytes, Some(&log), Some(&mut latencies))?;
                        }
                    }
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
                // After typing stops: done once this client holds every keystroke sent.
                if typing_done.load(Ordering::Relaxed)
                    && client.text().len() as u64 >= totals.keystrokes.load(Ordering::Relaxed)
                {
                    break;
                }
            }
            Ok((client.text(), latencies))
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    typing_done.store(true, Ordering::Relaxed);
    let typed_for = started.elapsed().as_secs_f64();
    let delivered_in_window = totals.frames.load(Ordering::Relaxed);
    let bytes_in_window = totals.bytes.load(Ordering::Relaxed);
    let cpu_seconds = server.cpu_seconds() - cpu_before;

    // Everything must arrive within 30 s of the last keystroke; whoever lacks some lost it.
    let mut texts = Vec::new();
    let mut latencies = Vec::new();
    let mut lost = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for mut task in tasks {
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(Ok((text, mut l)))) => {
                texts.push(text);
                latencies.append(&mut l);
            }
            Ok(Ok(Err(e))) => {
                eprintln!("a client failed: {e}");
                lost += 1;
            }
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => {
                task.abort();
                lost += 1;
            }
        }
    }
    let keystrokes = totals.keystrokes.load(Ordering::Relaxed);
    lost += texts
        .iter()
        .filter(|t| (t.len() as u64) < keystrokes)
        .count();
    let diverged = texts.iter().filter(|t| Some(*t) != texts.first()).count();
    latencies.sort_unstable();
    Ok(TypingResult {
        clients: n,
        seconds: typed_for,
        latencies_us: latencies,
        frames_per_second: delivered_in_window as f64 / typed_for,
        bytes_per_second: bytes_in_window as f64 / typed_for,
        cpu_seconds,
        peak_rss_mib: server.memory_mib().1,
        lost,
        diverged,
        catch_ups: server.metric("tavla_doc_catch_ups").await,
        keystrokes,
    })
}

pub struct IdleResult {
    pub docs: usize,
    pub rss_loaded_mib: f64,
    /// Of the loaded documents, those asleep when `rss_loaded_mib` was read (Tavla only).
    pub docs_asleep_loaded: Option<u64>,
    pub rss_after_close_mib: f64,
    pub docs_loaded_after_close: Option<u64>,
}

/// One client per document writes a short paragraph and stays connected, idle; then all leave.
pub async fn idle_docs(server: &Server, seats: &[Seat]) -> Result<IdleResult, BoxError> {
    let mut clients = connect_all(server, seats).await?;
    let mut rng = rand::rng();
    for client in &mut clients {
        for _ in 0..100 {
            let (frame, _, _) = client.keystroke(&mut rng)?;
            client.socket.feed(Message::Binary(frame.into())).await?;
        }
        client.socket.flush().await?;
    }
    // Let both servers settle (apply, persist) before reading their memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_loaded, _) = server.memory_mib();
    let docs_asleep_loaded = server.metric("tavla_docs_asleep").await;
    for mut client in clients {
        let _ = client.socket.close(None).await;
    }
    // Tavla unloads documents a second (bench setting) after their last connection closed;
    // give both servers a few seconds, Tavla up to 30 until it reports none loaded.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while matches!(server.docs_loaded().await, Some(n) if n > 0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(IdleResult {
        docs: seats.len(),
        rss_loaded_mib: rss_loaded,
        docs_asleep_loaded,
        rss_after_close_mib: server.memory_mib().0,
        docs_loaded_after_close: server.docs_loaded().await,
    })
}
