//! Paired boxes: a class's work follows it from room to room, between the school's own boxes,
//! chosen by people, never through a cloud.
//!
//! - [`identity`]: this box's key pair for box-to-box traffic (apart from the HTTPS CA).
//! - [`trust`]: paired certificates, the one pairing window, the TLS verifiers (mutual TLS,
//!   certificates pinned by fingerprint), the pairing proof.
//! - [`pairs`]: paired boxes in the store, what each receives, how far each sync got.
//! - [`wire`]: the box-to-box messages; [`client`]: one request to another box.
//!
//! What is sent and taken, and when, is decided by the use-cases around this module
//! (`service::boxes`); this module knows no documents, messages or rosters beyond the message
//! shapes, and imports nothing of the service layer but its error type.

pub mod client;
pub mod identity;
pub mod pairs;
pub mod trust;
pub mod wire;

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::error::ServiceError;
use crate::store::StoreError;
use identity::BoxIdentity;
use trust::Trust;

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("this box's key pair: {0}")]
    Identity(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    DataDir(#[from] crate::datadir::DataDirError),
    #[error("the other box could not be reached: {0}")]
    Unreachable(String),
    #[error("the other box refused the connection: {0}")]
    Refused(String),
    #[error("the other box answered something unexpected: {0}")]
    BadAnswer(String),
}

impl FederationError {
    /// The kind of failure, as the teacher's page names it (never content).
    pub fn code(&self) -> &'static str {
        match self {
            FederationError::Unreachable(_) => "unreachable",
            FederationError::Refused(_) => "refused",
            FederationError::BadAnswer(_) => "bad_answer",
            FederationError::Identity(_)
            | FederationError::Store(_)
            | FederationError::DataDir(_) => "internal",
        }
    }
}

/// This box among its paired boxes.
pub struct Federation {
    pub identity: BoxIdentity,
    pub trust: Arc<Trust>,
    /// The name other boxes see (the host name).
    pub name: String,
    /// How often each paired box is asked for what changed.
    pub interval: Duration,
    /// The sync listener's port, once bound.
    port: AtomicU16,
    /// Wakes the sync worker now (a box was paired, shares changed).
    pub wake: Notify,
    pub traffic: Traffic,
}

/// What syncing with paired boxes cost so far (for /metrics and the benchmark): bodies only,
/// without TLS and HTTP headers.
#[derive(Default)]
pub struct Traffic {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub requests: AtomicU64,
    pub syncs: AtomicU64,
}

impl Traffic {
    pub fn request(&self, sent: usize, received: usize) {
        self.sent.fetch_add(sent as u64, Ordering::Relaxed);
        self.received.fetch_add(received as u64, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// A sync with a paired box finished without error.
    pub fn synced(&self) {
        self.syncs.fetch_add(1, Ordering::Relaxed);
    }
}

impl Federation {
    pub fn new(identity: BoxIdentity, trust: Arc<Trust>, name: &str, interval: Duration) -> Self {
        Self {
            identity,
            trust,
            name: name.to_string(),
            interval,
            port: AtomicU16::new(0),
            wake: Notify::new(),
            traffic: Traffic::default(),
        }
    }

    pub fn port(&self) -> u16 {
        self.port.load(Ordering::SeqCst)
    }

    pub fn set_port(&self, port: u16) {
        self.port.store(port, Ordering::SeqCst);
    }
}

/// How a failure between boxes reaches the teacher who asked.
impl From<FederationError> for ServiceError {
    fn from(e: FederationError) -> Self {
        use FederationError::*;
        match e {
            Unreachable(_) | Refused(_) | BadAnswer(_) => {
                ServiceError::BoxUnreachable(e.to_string())
            }
            Identity(_) | Store(_) | DataDir(_) => ServiceError::Internal(e.to_string()),
        }
    }
}
