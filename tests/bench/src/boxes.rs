//! Catch-up between two paired boxes: a class of 30 on box A, each pupil's own document holding
//! 5,000 words and 1,000 messages in their private threads; box B pairs with A, A shares the
//! class, and B takes all of it. Measured: what crossed (the sync's request and answer bodies,
//! from B's `/metrics`) beside the size of what B received (the documents' encoded state and
//! the messages' text), the time from sharing to B holding every word and message, and what a
//! sync round costs per document once both hold the same.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use yrs::sync::{Message as YMessage, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

use crate::messages::{next_json, open};
use crate::servers::{BoxError, Layout, Server};

pub const PUPILS: usize = 30;
pub const WORDS: usize = 5_000;
pub const MESSAGES: usize = 1_000;
/// How often each box asks the other in this scenario (the default is 10 s).
pub const SYNC_EVERY_MS: u64 = 200;
/// Rounds averaged for the in-sync cost.
const IN_SYNC_ROUNDS: u64 = 5;

pub struct CatchUpResult {
    pub state_bytes: u64,
    pub message_bytes: u64,
    pub crossed_bytes: u64,
    pub requests: u64,
    pub seconds: f64,
    pub in_sync_bytes_per_doc: f64,
    pub in_sync_requests: f64,
}

fn essay(pupil: usize) -> String {
    (0..WORDS)
        .map(|w| format!("ord{}-{}", pupil, w % 97))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Types a pupil's essay into document `name` on `server`, as many small edits (a word at a
/// time) like a pupil typing; returns the document's encoded size.
async fn write_essay(server: &Server, name: &str, pupil: usize) -> Result<u64, BoxError> {
    let seat = server.teacher_doc(name).ok_or("no seat")?;
    let mut socket = open(server.connector.clone(), &seat).await?;
    let doc = Doc::new();
    let text = doc.get_or_insert_text("t");
    let step1 = YMessage::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
    socket.send(Message::Binary(step1.into())).await?;
    let mut frame = Vec::new();
    for word in essay(pupil).split(' ') {
        let before = doc.transact().state_vector();
        {
            let mut txn = doc.transact_mut();
            let end = text.len(&txn);
            text.insert(&mut txn, end, &format!("{word} "));
        }
        let update = doc.transact().encode_diff_v1(&before);
        frame.extend(YMessage::Sync(SyncMessage::Update(update)).encode_v1());
        if frame.len() > 32 * 1024 {
            socket
                .send(Message::Binary(std::mem::take(&mut frame).into()))
                .await?;
        }
    }
    socket.send(Message::Binary(frame.into())).await?;
    // The box answers a sync step 1 after it has applied every frame before it: the second
    // step 2 (the first answers the opening step 1) says the whole essay is in.
    let step1 = YMessage::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
    socket.send(Message::Binary(step1.into())).await?;
    let mut step2s = 0;
    while step2s < 2 {
        let frame = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await?
            .ok_or("closed")??;
        if let Message::Binary(bytes) = frame {
            if bytes.len() > 2 && bytes[0] == 0 && bytes[1] == 1 {
                step2s += 1;
            }
        }
    }
    socket.close(None).await?;
    let size = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default())
        .len();
    Ok(size as u64)
}

/// The text of document `name` as `server` holds it.
async fn read_text(server: &Server, name: &str) -> Result<String, BoxError> {
    let seat = server.teacher_doc(name).ok_or("no seat")?;
    let mut socket = open(server.connector.clone(), &seat).await?;
    let step1 = YMessage::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
    socket.send(Message::Binary(step1.into())).await?;
    let doc = Doc::new();
    let text = doc.get_or_insert_text("t");
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await?
            .ok_or("closed")??;
        let Message::Binary(bytes) = frame else {
            continue;
        };
        // Only sync step 2 (type 0, sub-type 1) carries the whole document.
        if bytes.len() > 2 && bytes[0] == 0 && bytes[1] == 1 {
            let mut decoder = yrs::encoding::read::Cursor::new(&bytes[2..]);
            let update = yrs::encoding::read::Read::read_buf(&mut decoder)?;
            doc.transact_mut()
                .apply_update(Update::decode_v1(update)?)?;
            let _ = socket.close(None).await;
            return Ok(text.get_string(&doc.transact()));
        }
    }
}

async fn metric(server: &Server, name: &str) -> u64 {
    server.metric(name).await.unwrap_or(0)
}

async fn crossed(server: &Server) -> (u64, u64) {
    (
        metric(server, "tavla_box_sync_bytes_sent").await
            + metric(server, "tavla_box_sync_bytes_received").await,
        metric(server, "tavla_box_sync_requests").await,
    )
}

/// Box B pairs with box A by a code A's teacher made; returns B's box id as A knows it.
pub async fn pair(a: &Server, b: &Server) -> Result<String, BoxError> {
    let code = a
        .api(Method::POST, "/api/boxes/pairing", Some(json!({})))
        .await?;
    b.api(
        Method::POST,
        "/api/boxes/paired",
        Some(json!({ "address": a.sync_address, "code": code["code"] })),
    )
    .await?;
    let overview = a.api(Method::GET, "/api/boxes/paired", None).await?;
    Ok(overview["paired"][0]["box_id"]
        .as_str()
        .ok_or("b not paired")?
        .to_string())
}

/// Box A's teacher lets the paired box `box_id` receive the class `class_id`.
pub async fn share(a: &Server, box_id: &str, class_id: &str) -> Result<(), BoxError> {
    a.api(
        Method::PUT,
        &format!("/api/boxes/paired/{box_id}/shares"),
        Some(json!({ "classes": [class_id] })),
    )
    .await?;
    Ok(())
}

pub async fn catch_up(binary: &std::path::Path) -> Result<CatchUpResult, BoxError> {
    // Appended to the bench's [limits]: the teacher sends 1,000 messages as fast as she can.
    let config = format!(
        "ws_messages_per_second = 100000\ndoc_messages_per_second = 100000\n\
         [boxes]\nsync_every_ms = {SYNC_EVERY_MS}\n"
    );
    let (a, _) = Server::tavla_with(binary, &Layout::OneDoc(0), &config).await?;
    let class_id = a.class_id.clone().ok_or("no class")?;
    let names: Vec<String> = (0..PUPILS).map(|i| format!("Elev {i}")).collect();
    let class = a
        .api(
            Method::POST,
            &format!("/api/classes/{class_id}/pupils"),
            Some(json!({ "names": names })),
        )
        .await?;
    let pupils: Vec<String> = class["pupils"]
        .as_array()
        .ok_or("no pupils")?
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_string))
        .collect();
    let mut state_bytes = 0;
    let docs: Vec<String> = pupils
        .iter()
        .map(|p| format!("class.{class_id}.pupil.{p}"))
        .collect();
    for (i, name) in docs.iter().enumerate() {
        state_bytes += write_essay(&a, name, i).await?;
    }
    // 1,000 messages from the teacher into the pupils' private threads.
    let teacher = a.teacher_ws.clone().ok_or("no teacher")?;
    let mut ws = open(a.connector.clone(), &teacher).await?;
    let mut message_bytes = 0;
    for i in 0..MESSAGES {
        let text = format!("Melding {i}: husk å levere oppgaven før fredag.");
        message_bytes += text.len() as u64;
        let thread = format!("pm.c.{class_id}.{}", pupils[i % PUPILS]);
        let send =
            json!({ "type": "send", "client_id": format!("m{i}"), "thread": thread, "text": text });
        ws.send(Message::Text(send.to_string().into())).await?;
    }
    ws.send(Message::Text(
        json!({ "type": "ping", "id": 1 }).to_string().into(),
    ))
    .await?;
    while next_json(&mut ws).await?["type"] != "pong" {}

    let (b, _) = Server::tavla_with(binary, &Layout::OneDoc(0), &config).await?;
    let b_on_a = pair(&a, &b).await?;
    let (before, requests_before) = crossed(&b).await;
    let started = Instant::now();
    share(&a, &b_on_a, &class_id).await?;
    // Converged: B holds every pupil's whole essay and every message.
    let last = docs.last().ok_or("no docs")?.clone();
    let expected_last = format!("{} ", essay(PUPILS - 1));
    loop {
        if read_text(&b, &last).await.is_ok_and(|t| t == expected_last) {
            let count = b_messages(&b, &class_id).await.unwrap_or(0);
            if count == MESSAGES {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err("B never caught up".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    for (i, name) in docs.iter().enumerate() {
        if read_text(&b, name).await? != format!("{} ", essay(i)) {
            return Err(format!("{name} differs on B").into());
        }
    }
    // Let the round that finished the catch-up end, then count whole rounds in sync.
    let syncs = metric(&b, "tavla_box_syncs").await;
    wait_syncs(&b, syncs + 1).await;
    let (after, requests_after) = crossed(&b).await;
    let syncs = metric(&b, "tavla_box_syncs").await;
    wait_syncs(&b, syncs + IN_SYNC_ROUNDS).await;
    let (steady, requests_steady) = crossed(&b).await;
    a.stop().await;
    b.stop().await;
    Ok(CatchUpResult {
        state_bytes,
        message_bytes,
        crossed_bytes: after - before,
        requests: requests_after - requests_before,
        seconds,
        in_sync_bytes_per_doc: (steady - after) as f64 / IN_SYNC_ROUNDS as f64 / PUPILS as f64,
        in_sync_requests: (requests_steady - requests_after) as f64 / IN_SYNC_ROUNDS as f64,
    })
}

async fn wait_syncs(server: &Server, at_least: u64) {
    while metric(server, "tavla_box_syncs").await < at_least {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many messages B's teacher sees in the class's lesson history.
async fn b_messages(b: &Server, class_id: &str) -> Result<usize, BoxError> {
    let class = b
        .api(Method::GET, &format!("/api/classes/{class_id}"), None)
        .await?;
    let lesson = class["active_lesson"]["id"]
        .as_str()
        .ok_or("no lesson on B")?;
    let mut seat = b.teacher_ws.clone().ok_or("no teacher")?;
    let base = seat
        .url
        .split("?lesson=")
        .next()
        .unwrap_or_default()
        .to_string();
    seat.url = format!("{base}?lesson={lesson}");
    let mut ws = open(b.connector.clone(), &seat).await?;
    ws.send(Message::Text(
        json!({ "type": "sync", "after": 0 }).to_string().into(),
    ))
    .await?;
    let mut count = 0;
    loop {
        let message = next_json(&mut ws).await?;
        match message["type"].as_str() {
            Some("message") => count += 1,
            Some("synced") => return Ok(count),
            _ => {}
        }
    }
}
