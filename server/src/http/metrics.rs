//! `/healthz` and `/metrics` (Prometheus text). Counts only: nothing about any person.

use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

use super::state::AppState;
use crate::service;
use crate::store::Health;

/// `200 ok` while the box can save what it is given; `503` with the reason when it cannot (a
/// full disk, a store being reopened). Below the disk's reserve it is still `200`, saying so.
pub async fn healthz(State(state): State<Arc<AppState>>) -> (StatusCode, &'static str) {
    match service::health::check(&state.services) {
        Health::Ok => (StatusCode::OK, "ok\n"),
        Health::Low => (
            StatusCode::OK,
            "ok, but the disk is below its reserve: pupils cannot add to documents or files\n",
        ),
        Health::Full => (
            StatusCode::SERVICE_UNAVAILABLE,
            "disk full: nothing new can be saved until room is made\n",
        ),
        Health::Failed(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "store failed: it is reopened as soon as the disk has room\n",
        ),
    }
}

/// Resident memory of this process, from /proc (Linux).
fn rss_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .unwrap_or(0);
    pages * 4096
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let active_lessons = service::lessons::count_running(&state.services).unwrap_or(0);
    let media = &state.services.media.counts;
    let gauges = [
        (
            "tavla_ws_connections",
            "Open client WebSocket connections.",
            state.ws_connections.load(Ordering::Relaxed) as u64,
        ),
        (
            "tavla_lessons_active",
            "Lessons started and not yet ended.",
            active_lessons as u64,
        ),
        (
            "tavla_lessons_live",
            "Lessons with at least one pupil connected.",
            state.services.presence.live_lessons() as u64,
        ),
        (
            "tavla_docs_loaded",
            "Shared documents held in memory.",
            state.services.docs.loaded_count() as u64,
        ),
        (
            "tavla_docs_asleep",
            "Of the loaded documents, those open but idle, held as one encoded update.",
            state.services.docs.asleep_count() as u64,
        ),
        (
            "tavla_doc_catch_ups",
            "Times since start a connection fell behind a document and was sent all of it.",
            state.services.docs.catch_up_count(),
        ),
        (
            "tavla_media_peers",
            "Open WebRTC peer connections (publishing and receiving).",
            media.peers.load(Ordering::Relaxed) as u64,
        ),
        (
            "tavla_media_tracks",
            "Published tracks being forwarded.",
            media.tracks.load(Ordering::Relaxed) as u64,
        ),
        (
            "tavla_media_tasks",
            "Media forwarding and feedback tasks running.",
            media.tasks.load(Ordering::Relaxed) as u64,
        ),
        (
            "tavla_media_packets_forwarded",
            "RTP packets read from publishers and passed on since start.",
            media.packets_forwarded.load(Ordering::Relaxed),
        ),
        (
            "tavla_media_relays_out",
            "Paired boxes this box sends a lesson's stream to (one copy each).",
            media.relays_out.load(Ordering::Relaxed) as u64,
        ),
        (
            "tavla_media_relays_in",
            "Lessons this box receives from a paired box for its own viewers.",
            media.relays_in.load(Ordering::Relaxed) as u64,
        ),
        (
            "tavla_media_relay_bytes_received",
            "Bytes of RTP received from paired boxes relaying their lessons, since start.",
            media.relay_bytes_received.load(Ordering::Relaxed),
        ),
        (
            "tavla_box_sync_bytes_sent",
            "Bytes of request bodies this box sent paired boxes while syncing, since start.",
            state.services.boxes.traffic.sent.load(Ordering::Relaxed),
        ),
        (
            "tavla_box_sync_bytes_received",
            "Bytes of answers this box received from paired boxes while syncing, since start.",
            state
                .services
                .boxes
                .traffic
                .received
                .load(Ordering::Relaxed),
        ),
        (
            "tavla_box_sync_requests",
            "Requests this box made to paired boxes while syncing, since start.",
            state
                .services
                .boxes
                .traffic
                .requests
                .load(Ordering::Relaxed),
        ),
        (
            "tavla_box_syncs",
            "Syncs with a paired box that finished without error, since start.",
            state.services.boxes.traffic.syncs.load(Ordering::Relaxed),
        ),
        (
            "tavla_memory_rss_bytes",
            "Resident memory of the server process.",
            rss_bytes(),
        ),
    ];
    let mut body = String::new();
    for (name, help, value) in gauges {
        let _ = writeln!(
            body,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
