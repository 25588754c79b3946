//! One request to a paired box's sync listener: mutual TLS (our certificate, theirs pinned),
//! HTTP/1.1, a deadline for the whole exchange and a cap on the answer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::WebSocketStream;

use super::identity::{Fingerprint, SERVER_NAME};
use super::FederationError;

/// The whole exchange, from connecting to the last byte of the answer.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// What came back, and the certificate the other box showed.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
    pub peer: Option<Fingerprint>,
}

pub async fn request(
    config: Arc<rustls::ClientConfig>,
    address: &str,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
    max_answer_bytes: usize,
) -> Result<Answer, FederationError> {
    request_with(config, address, method, path, max_answer_bytes, |_| body).await
}

/// Like [`request`], with a body made once the other box's certificate is known (pairing
/// binds its proof to both certificates).
pub async fn request_with(
    config: Arc<rustls::ClientConfig>,
    address: &str,
    method: Method,
    path: &str,
    max_answer_bytes: usize,
    body: impl FnOnce(Option<&Fingerprint>) -> Option<Vec<u8>>,
) -> Result<Answer, FederationError> {
    tokio::time::timeout(
        DEADLINE,
        exchange(config, address, method, path, body, max_answer_bytes),
    )
    .await
    .map_err(|_| FederationError::Unreachable("no answer in time".into()))?
}

async fn exchange(
    config: Arc<rustls::ClientConfig>,
    address: &str,
    method: Method,
    path: &str,
    body: impl FnOnce(Option<&Fingerprint>) -> Option<Vec<u8>>,
    max_answer_bytes: usize,
) -> Result<Answer, FederationError> {
    let unreachable = |e: &dyn std::fmt::Display| FederationError::Unreachable(e.to_string());
    let (tls, peer) = connect(config, address).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| failed(&e))?;
    let driver = tokio::spawn(connection);
    let body = body(peer.as_ref());
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, SERVER_NAME)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| unreachable(&e))?;
    let response = sender.send_request(request).await.map_err(|e| failed(&e))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), max_answer_bytes)
        .collect()
        .await
        .map_err(|e| FederationError::BadAnswer(e.to_string()))?
        .to_bytes();
    driver.abort();
    Ok(Answer { status, body, peer })
}

/// The TLS connection to a paired box's sync listener, and the certificate it showed.
async fn connect(
    config: Arc<rustls::ClientConfig>,
    address: &str,
) -> Result<(TlsStream<TcpStream>, Option<Fingerprint>), FederationError> {
    let unreachable = |e: &dyn std::fmt::Display| FederationError::Unreachable(e.to_string());
    let tcp = TcpStream::connect(address)
        .await
        .map_err(|e| unreachable(&e))?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(SERVER_NAME).map_err(|e| unreachable(&e))?;
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| FederationError::Refused(e.to_string()))?;
    let peer = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(Fingerprint::of);
    Ok((tls, peer))
}

/// A WebSocket to a paired box's sync listener.
pub type Socket = WebSocketStream<TlsStream<TcpStream>>;

/// How long opening a socket may take, from connecting to the upgrade's answer.
const SOCKET_DEADLINE: Duration = Duration::from_secs(15);

/// Opens a WebSocket to `path` (with its query) on a paired box's sync listener, over the same
/// pinned mutual TLS as every request; messages over `max_message_bytes` end it. An upgrade the
/// other box refuses is [`FederationError::Refused`] with its status.
pub async fn open_socket(
    config: Arc<rustls::ClientConfig>,
    address: &str,
    path: &str,
    max_message_bytes: usize,
) -> Result<Socket, FederationError> {
    let opening = async {
        let (tls, _) = connect(config, address).await?;
        let request = format!("wss://{SERVER_NAME}{path}")
            .into_client_request()
            .map_err(|e| FederationError::BadAnswer(e.to_string()))?;
        let limits = WebSocketConfig::default()
            .max_message_size(Some(max_message_bytes))
            .max_frame_size(Some(max_message_bytes));
        match tokio_tungstenite::client_async_with_config(request, tls, Some(limits)).await {
            Ok((socket, _)) => Ok(socket),
            Err(WsError::Http(answer)) => Err(FederationError::Refused(format!(
                "the upgrade was answered {}",
                answer.status()
            ))),
            Err(e) => Err(failed(&e)),
        }
    };
    tokio::time::timeout(SOCKET_DEADLINE, opening)
        .await
        .map_err(|_| FederationError::Unreachable("no answer in time".into()))?
}

/// Under TLS 1.3 the other box checks our certificate after our side of the handshake is
/// done: its refusal arrives as an alert on the first read, inside hyper's error.
fn failed(e: &(dyn std::error::Error + 'static)) -> FederationError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = cause {
        if error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .is_some_and(|tls| matches!(tls, rustls::Error::AlertReceived(_)))
        {
            return FederationError::Refused(error.to_string());
        }
        cause = error.source();
    }
    FederationError::Unreachable(e.to_string())
}
