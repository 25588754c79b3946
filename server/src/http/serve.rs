//! The accept loop of both listeners: rustls in front of the axum router (HTTPS) or not (plain
//! HTTP), graceful on shutdown; each address's share of connections, and timeouts for
//! handshakes, headers and silence.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_io_timeout::TimeoutStream;
use tokio_rustls::TlsAcceptor;
use tower::Service;

use super::connections::Connections;
use super::extract::PeerCertificate;
use super::state::AppState;
use crate::service::boxes::federation::identity::Fingerprint;

pub async fn serve_https(listener: TcpListener, state: Arc<AppState>) {
    let acceptor = TlsAcceptor::from(state.tls.server_config());
    let router = super::router(state.clone());
    serve_connections(listener, state, router, Some(acceptor), "HTTPS").await;
}

/// The sync listener for paired boxes: mutual TLS with this box's own key pair.
pub async fn serve_sync(
    listener: TcpListener,
    state: Arc<AppState>,
    config: Arc<rustls::ServerConfig>,
) {
    let router = super::sync::router(state.clone());
    serve_connections(
        listener,
        state,
        router,
        Some(TlsAcceptor::from(config)),
        "sync",
    )
    .await;
}

/// Accepts connections until shutdown and serves `router` on each (through TLS when an
/// `acceptor` is given): each client address gets its share of connections, and a connection
/// whose handshake, headers or traffic stall is dropped. The plain-HTTP listener uses the same
/// loop without TLS, with a share of its own.
pub async fn serve_connections(
    listener: TcpListener,
    state: Arc<AppState>,
    router: axum::Router,
    acceptor: Option<TlsAcceptor>,
    what: &'static str,
) {
    let graceful = GracefulShutdown::new();
    let limits = &state.config.limits;
    let connections = Connections::new(limits.connections_per_address);
    // A handshake that stalls is dropped; so are headers that do not arrive and connections
    // on which nothing arrives at all (sockets ping well within that).
    let handshake_timeout = Duration::from_millis(limits.tls_handshake_ms);
    let header_timeout = Duration::from_millis(limits.header_read_ms);
    let idle_timeout = Duration::from_millis(limits.idle_connection_ms);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = state.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(slot) = connections.open(peer.ip()) else {
            tracing::debug!(%peer, what, "connection refused: the address holds its share");
            drop(tcp);
            continue;
        };
        // Document edits are small frames that must go out at once; Nagle's algorithm would
        // hold them back for up to 40 ms waiting for an ACK.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(%peer, "could not disable Nagle: {e}");
        }
        let acceptor = acceptor.clone();
        let router = router.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _slot = slot;
            // Without TLS nothing else bounds the wait for a request's first byte (hyper's
            // header timeout starts with that byte).
            if acceptor.is_none()
                && !matches!(
                    tokio::time::timeout(header_timeout, tcp.peek(&mut [0u8; 1])).await,
                    Ok(Ok(1..))
                )
            {
                return;
            }
            let mut tcp = TimeoutStream::new(tcp);
            tcp.set_read_timeout(Some(idle_timeout));
            let tcp = Box::pin(tcp);
            // Every request carries the client's address, and the certificate it showed (only
            // paired boxes on the sync listener show one).
            let service = move |certificate: Option<PeerCertificate>| {
                hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    if let Some(certificate) = &certificate {
                        req.extensions_mut().insert(certificate.clone());
                    }
                    router.clone().call(req)
                })
            };
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(idle_timeout / 3)
                .keep_alive_timeout(idle_timeout / 3);
            let served = match acceptor {
                Some(acceptor) => {
                    let tls =
                        match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                            Ok(Ok(tls)) => tls,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, "TLS handshake failed: {e}");
                                return;
                            }
                            Err(_) => return,
                        };
                    let certificate = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|certs| certs.first())
                        .map(|cert| PeerCertificate(Fingerprint::of(cert)));
                    let connection = builder
                        .serve_connection_with_upgrades(TokioIo::new(tls), service(certificate))
                        .into_owned();
                    watcher.watch(connection).await
                }
                None => {
                    let connection = builder
                        .serve_connection_with_upgrades(TokioIo::new(tcp), service(None))
                        .into_owned();
                    watcher.watch(connection).await
                }
            };
            if let Err(e) = served {
                tracing::debug!(%peer, "connection ended with an error: {e}");
            }
        });
    }
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(what, "some connections were still busy after 5 s");
    }
}
