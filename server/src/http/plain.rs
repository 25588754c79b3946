//! Plain HTTP: devices that do not trust the local CA yet land here. It serves the CA and the
//! page that explains how to install it, and redirects everything else to HTTPS.

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
    let router = Router::new()
        .route("/ca.crt", get(ca_files::certificate))
        .route("/ca.mobileconfig", get(ca_files::mobileconfig))
        .route("/api/tls", get(ca_files::info))
        .route("/healthz", get(metrics::healthz))
        .route("/install", get(assets::serve))
        .fallback(redirect_or_asset)
        .layer(axum::middleware::from_fn(super::security_headers))
        .with_state(state.clone());
    // The same share per address and the same timeouts as HTTPS: a stranger on the Wi-Fi can
    // hold this port open as easily as the other.
    super::serve::serve_connections(listener, state, router, None, "plain HTTP").await;
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
    let Some(host) = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return (StatusCode::BAD_REQUEST, "missing Host header").into_response();
    };
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    // Only to a name the box answers to: a Host header is whatever the client wrote, and
    // reflecting it would make the box send people anywhere.
    let base = match host_without_port(host) {
        Some(name) if state.names.knows(name) => {
            format!("https://{}:{}", bracketed(name), state.https_port)
        }
        _ => state.reachable_base_url(None),
    };
    Redirect::permanent(&format!("{base}{path_and_query}")).into_response()
}

/// `box.local:8080` → `box.local`, `[fe80::1]:8080` → `fe80::1`.
fn host_without_port(host: &str) -> Option<&str> {
    match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map(|(addr, _)| addr),
        None => Some(host.rsplit_once(':').map_or(host, |(name, _)| name)),
    }
}

fn bracketed(name: &str) -> String {
    if name.contains(':') {
        format!("[{name}]")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_read_without_its_port() {
        assert_eq!(host_without_port("box.local:8080"), Some("box.local"));
        assert_eq!(host_without_port("box.local"), Some("box.local"));
        assert_eq!(host_without_port("[fe80::1]:8080"), Some("fe80::1"));
        assert_eq!(host_without_port("[broken"), None);
        assert_eq!(bracketed("fe80::1"), "[fe80::1]");
    }
}
