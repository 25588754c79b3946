//! What every handler and socket loop shares: the use-cases ([`Services`]), the
//! configuration, and the HTTP-side parts (certificates, rate limits, the shutdown token).

use std::net::IpAddr;
use std::sync::atomic::AtomicUsize;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ratelimit::RateLimits;
use crate::config::Config;
use crate::error::ServiceError;
use crate::service::Services;
use crate::tls::{ServerNames, Tls};
use std::sync::Arc;

/// Everything request handlers share.
pub struct AppState {
    pub config: Config,
    /// The use-cases, and the subsystems they compose.
    pub services: Services,
    pub tls: Arc<Tls>,
    pub limits: RateLimits,
    pub names: ServerNames,
    /// Open client WebSockets (for /metrics).
    pub ws_connections: AtomicUsize,
    /// The bound HTTPS port, for links (join QR codes, setup links).
    pub https_port: u16,
    pub shutdown: CancellationToken,
    /// WebSocket tasks; shutdown waits for them to send their close frames.
    pub tasks: TaskTracker,
}

impl AppState {
    /// Runs a use-case off the async threads (it reads or writes the store, or waits on a
    /// lock the store holds).
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Services) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || work(&state.services))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
    }

    /// An address pupils can reach the box at: the one the teacher used, unless that was
    /// loopback (the teacher on the box itself), then the box's first LAN address.
    pub fn reachable_base_url(&self, host_header: Option<&str>) -> String {
        let host = host_header
            .map(|h| h.rsplit_once(':').map_or(h, |(host, _)| host))
            .filter(|h| !is_loopback_host(h));
        match host {
            Some(h) => format!("https://{h}:{}", self.https_port),
            None => base_url(self.config.listen.ip(), self.https_port, &self.names),
        }
    }

    /// `https://<box-name>.local:<port>`, when the box announces that name (mDNS): what
    /// pupils' devices that resolve `.local` open without typing a number.
    pub fn local_base_url(&self) -> Option<String> {
        self.config
            .discovery
            .enabled
            .then(|| format!("https://{}.local:{}", self.names.host(), self.https_port))
    }
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `https://<address>:<port>` for printing: the listen address, or the first LAN address when
/// listening on all interfaces.
pub fn base_url(listen_ip: IpAddr, port: u16, names: &ServerNames) -> String {
    let ip = if listen_ip.is_unspecified() {
        names
            .ips
            .iter()
            .find(|ip| ip.is_ipv4() && !ip.is_loopback())
            .copied()
            .unwrap_or(IpAddr::from([127, 0, 0, 1]))
    } else {
        listen_ip
    };
    match ip {
        IpAddr::V6(v6) => format!("https://[{v6}]:{port}"),
        IpAddr::V4(v4) => format!("https://{v4}:{port}"),
    }
}
