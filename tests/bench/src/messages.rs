//! Lesson start on `/ws`: within one second every pupil raises a hand with a question, and half
//! a second later sends the teacher a private message. Latency is from a pupil's send to the
//! teacher's socket receiving that message (stored and made durable on the way).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::servers::{BoxError, Seat, Server};

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// The window in which every pupil acts.
const SPREAD: Duration = Duration::from_secs(1);
/// Between a pupil's question and their private message.
const THEN: Duration = Duration::from_millis(500);

pub struct BurstResult {
    pub pupils: usize,
    pub latencies_us: Vec<u64>,
    pub cpu_seconds: f64,
    pub peak_rss_mib: f64,
    pub lost: usize,
}

pub async fn open(connector: Option<Connector>, seat: &Seat) -> Result<Socket, BoxError> {
    let mut request = seat.url.as_str().into_client_request()?;
    if let Some(cookie) = &seat.cookie {
        request.headers_mut().insert("cookie", cookie.parse()?);
    }
    let (socket, _) =
        tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector).await?;
    Ok(socket)
}

pub async fn next_json(socket: &mut Socket) -> Result<Value, BoxError> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await?
            .ok_or("socket closed")??;
        if let Message::Text(text) = message {
            return Ok(serde_json::from_str(&text)?);
        }
    }
}

/// Connects, syncs, and returns the socket with the pupil's private thread (if a pupil).
async fn ready(connector: Option<Connector>, seat: &Seat) -> Result<(Socket, String), BoxError> {
    let mut socket = open(connector, seat).await?;
    let sync = json!({ "type": "sync", "after": 0 }).to_string();
    socket.send(Message::Text(sync.into())).await?;
    let mut private = String::new();
    loop {
        let message = next_json(&mut socket).await?;
        if message["type"] == "threads" {
            private = message["private"].as_str().unwrap_or_default().to_string();
        }
        if message["type"] == "synced" {
            return Ok((socket, private));
        }
    }
}

/// `server.pupils_ws` pupils and the teacher: the lesson-start burst.
pub async fn lesson_start(server: &Server) -> Result<BurstResult, BoxError> {
    let teacher_seat = server.teacher_ws.clone().ok_or("Tavla only")?;
    let (mut teacher, _) = ready(server.connector.clone(), &teacher_seat).await?;
    let gate = Arc::new(Semaphore::new(32));
    let mut connecting = Vec::new();
    for seat in server.pupils_ws.clone() {
        let (gate, connector) = (gate.clone(), server.connector.clone());
        connecting.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            ready(connector, &seat).await
        }));
    }
    let mut pupils = Vec::new();
    for task in connecting {
        pupils.push(task.await??);
    }
    let n = pupils.len();
    // sent[2i] = question of pupil i, sent[2i+1] = their message; µs since start, plus one.
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..2 * n).map(|_| AtomicU64::new(0)).collect());
    let cpu_before = server.cpu_seconds();
    let start = Instant::now() + Duration::from_millis(200);
    for (i, (mut socket, private)) in pupils.into_iter().enumerate() {
        let sent = sent.clone();
        tokio::spawn(async move {
            let at = start + SPREAD.mul_f64(i as f64 / n.max(1) as f64);
            tokio::time::sleep_until(at.into()).await;
            let question = json!({ "type": "raise_hand", "question": format!("q-{i}"),
                                   "client_id": format!("q{i}") });
            let stamp = |slot: usize| {
                sent[slot].store(start.elapsed().as_micros() as u64 + 1, Ordering::Relaxed)
            };
            stamp(2 * i);
            if socket
                .send(Message::Text(question.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep_until((at + THEN).into()).await;
            let message = json!({ "type": "send", "client_id": format!("m{i}"),
                                  "thread": private, "text": format!("m-{i}") });
            stamp(2 * i + 1);
            if socket
                .send(Message::Text(message.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
            // Keep reading (acknowledgements, place in the queue) until the run ends.
            while let Some(Ok(_)) = socket.next().await {}
        });
    }
    let mut latencies = Vec::with_capacity(2 * n);
    let deadline = start + SPREAD + THEN + Duration::from_secs(30);
    while latencies.len() < 2 * n {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(remaining, teacher.next()).await
        else {
            if Instant::now() >= deadline {
                break;
            }
            continue;
        };
        let now = start.elapsed().as_micros() as u64 + 1;
        let message: Value = serde_json::from_str(&text)?;
        if message["type"] != "message" {
            continue;
        }
        let text = message["message"]["text"].as_str().unwrap_or_default();
        let slot = match text.split_once('-') {
            Some(("q", i)) => i.parse::<usize>().ok().map(|i| 2 * i),
            Some(("m", i)) => i.parse::<usize>().ok().map(|i| 2 * i + 1),
            _ => None,
        };
        if let Some(sent_at) = slot
            .and_then(|s| sent.get(s))
            .map(|a| a.load(Ordering::Relaxed))
        {
            latencies.push(now.saturating_sub(sent_at));
        }
    }
    let cpu_seconds = server.cpu_seconds() - cpu_before;
    latencies.sort_unstable();
    Ok(BurstResult {
        pupils: n,
        lost: 2 * n - latencies.len(),
        latencies_us: latencies,
        cpu_seconds,
        peak_rss_mib: server.memory_mib().1,
    })
}
