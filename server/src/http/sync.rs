//! The sync listener: where paired boxes ask for what this box shares with them, over mutual
//! TLS on its own port (docs/PROTOCOL.md, "Between paired boxes"). The handshake already
//! refused any certificate that is not paired (or, while a pairing code is open, lets it only
//! ask to pair); each request is checked again, so unpairing also ends connections a box still
//! holds.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::extract::{ApiJson, ApiQuery, ClientIp, PairedCaller, PeerCertificate};
use super::state::AppState;
use crate::error::ServiceError;
use crate::service;
use crate::service::boxes::federation::wire::{
    DocsAnswer, DocsRequest, Manifest, MessagesAnswer, PairAnswer, PairRequest,
};

/// Largest request body a paired box may send (a `POST /sync/docs` naming 64 documents with
/// their state vectors is a few kilobytes).
const MAX_REQUEST_BYTES: usize = 1024 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/pair", post(pair))
        .route("/sync/classes", get(classes))
        .route("/sync/docs", post(docs))
        .route("/sync/messages", get(messages))
        .route("/sync/poke", post(poke))
        .route("/sync/relay", get(super::relay::upgrade))
        .fallback(|| async { ServiceError::NotFound })
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(state)
}

/// `POST /pair`: another box proves it knows this box's open pairing code.
async fn pair(
    State(state): State<Arc<AppState>>,
    PeerCertificate(peer): PeerCertificate,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<PairRequest>,
) -> Result<Json<PairAnswer>, ServiceError> {
    state
        .blocking(move |s| service::boxes::accept_pairing(s, &peer, ip, request))
        .await
        .map(Json)
}

/// `GET /sync/classes`: the classes, pupils, lessons and document names shared with the asker.
async fn classes(
    State(state): State<Arc<AppState>>,
    PairedCaller(who): PairedCaller,
) -> Result<Json<Manifest>, ServiceError> {
    state
        .blocking(move |s| service::boxes::manifest(s, &who))
        .await
        .map(Json)
}

/// `POST /sync/docs`: the updates the asker lacks, given its state vectors.
async fn docs(
    State(state): State<Arc<AppState>>,
    PairedCaller(who): PairedCaller,
    ApiJson(request): ApiJson<DocsRequest>,
) -> Result<Json<DocsAnswer>, ServiceError> {
    state
        .blocking(move |s| service::boxes::doc_updates(s, &who, request))
        .await
        .map(Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct After {
    after: u64,
}

/// `GET /sync/messages?after=<n>`: shared messages numbered here after `n`.
async fn messages(
    State(state): State<Arc<AppState>>,
    PairedCaller(who): PairedCaller,
    ApiQuery(After { after }): ApiQuery<After>,
) -> Result<Json<MessagesAnswer>, ServiceError> {
    state
        .blocking(move |s| service::boxes::messages_after(s, &who, after))
        .await
        .map(Json)
}

/// `POST /sync/poke`: the asker changed what it shares with this box; this box asks it now.
async fn poke(
    State(state): State<Arc<AppState>>,
    PairedCaller(who): PairedCaller,
) -> Result<axum::http::StatusCode, ServiceError> {
    service::boxes::poked(&state.services, &who)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
