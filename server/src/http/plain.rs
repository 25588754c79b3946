//! Plain HTTP: devices that do not trust the local CA yet land here. It serves the CA and the
//! page that explains how to install it, and redirects everything else to HTTPS.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use super::state::AppState;
use super::{assets, ca_files, metrics};

pub async fn serve_plain(listener: TcpListener, state: Arc<AppState>) {
    let shutdown = state.shutdown.clone();
    let router = Router::new()
        .route("/ca.crt", get(ca_files::certificate))
        .route("/ca.mobileconfig", get(ca_files::mobileconfig))
        .route("/api/tls", get(ca_files::info))
        .route("/healthz", get(metrics::healthz))
        .route("/install", get(assets::serve))
        .fallback(redirect_or_asset)
        .layer(axum::middleware::from_fn(super::security_headers))
        .with_state(state);
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!("plain HTTP server stopped: {e}");
    }
}

/// The install page's own scripts and styles are served here too; everything else moves to HTTPS.
async fn redirect_or_asset(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let path = request.uri().path();
    let is_asset = path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    if is_asset {
        return assets::serve(request.uri().clone()).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(host, _)| host).to_string());
    let Some(host) = host else {
        return (StatusCode::BAD_REQUEST, "missing Host header").into_response();
    };
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    Redirect::permanent(&format!(
        "https://{host}:{}{path_and_query}",
        state.https_port
    ))
    .into_response()
}
