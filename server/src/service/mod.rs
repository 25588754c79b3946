//! The use-cases: one function each (end a lesson, remove a pupil, reissue a card, log out …).
//! A handler or socket loop parses its input, calls one of these, and maps the typed result.
//! These functions are the one place that changes state and says what follows from it: which
//! sessions end, which open connections lose their grant (and so close, with which code),
//! what else is told. Nothing here knows about HTTP.
//!
//! - [`access`]: "is this the caller's …?" — the lookups every use-case starts with, each
//!   answered by [`crate::auth::can`].
//! - [`boxes`]: paired boxes: pairing, unpairing, what each receives, answering their sync
//!   requests and taking what they share.
//! - [`docs`]: which documents someone can open, exports, the read-only switch.
//! - [`files`]: files attached to messages and images in documents.
//! - [`groups`]: forming a lesson's groups (by hand, at random, as last time).
//! - [`handouts`]: a template handed out as a copy to every pupil or group.
//! - [`health`]: what `/healthz` says; a store that failed is reopened once there is room.
//! - [`history`]: a document's versions: listing, saving, restoring one as a copy.
//! - [`lessons`]: ending lessons (by the teacher or the clock), removing a pupil, presence.
//! - [`media`]: live media: publish, watch, let a pupil speak, private calls.
//! - [`messages`]: sending, deleting, hands, "coming to you", chats and muting; one `/ws`
//!   connection's message session.
//! - [`offline`]: what the command line does while Tavla is stopped (add a teacher, the VPN).
//! - [`nearby`]: the other classroom boxes on the network, for the teacher.
//! - [`privacy`]: everything kept about a pupil: one archive to download, and deletion of all
//!   of it (every store tree has a keeper that answers both).
//! - [`roster`]: a class's pupils: adding them, reissuing a card.
//! - [`sessions`]: signing in and out, who a session is for, and the grant an open
//!   connection holds.
//! - [`vpn`]: the WireGuard VPN for pupils at home: giving and taking a pupil's access.
//! - [`teachers`]: teacher accounts: setup links, invitations, signing in, "who am I".

pub mod access;
pub mod boxes;
pub mod docs;
pub mod files;
pub mod groups;
pub mod handouts;
pub mod health;
pub mod history;
pub mod lessons;
pub mod media;
pub mod messages;
pub mod nearby;
pub mod offline;
pub mod privacy;
pub mod profile;
pub mod roster;
pub mod sessions;
pub mod teachers;
pub mod vpn;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::auth::grants::Grants;
use crate::channels::Channels;
use crate::clock::Clock;
use crate::discovery::Nearby;
use crate::docs::hub::DocHub;
use crate::lessons::presence::Presence;
use crate::media::Media;
use crate::service::boxes::federation::Federation;
use crate::store::disk::Disk;
use crate::store::Store;
use crate::uploads::Quotas;

/// The subsystems the use-cases compose; built once at start.
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub presence: Arc<Presence>,
    pub docs: Arc<DocHub>,
    pub media: Arc<Media>,
    pub channels: Arc<Channels>,
    /// Every open connection's grant: what withdrawing access closes.
    pub grants: Arc<Grants>,
    /// How much room files may take, and where the data lives (for its free disk space).
    pub files: FileRoom,
    /// Other classroom boxes on the network (mDNS), for the teacher's page.
    pub nearby: Arc<Nearby>,
    /// This box among the boxes paired with it.
    pub boxes: Arc<Federation>,
    /// The data directory's disk: its free space, reserve and floor.
    pub disk: Arc<Disk>,
}

/// The room files have on the box.
pub struct FileRoom {
    pub quotas: Quotas,
    pub data_dir: PathBuf,
    /// What each device (client address) has stored since the box started.
    pub by_address: Mutex<HashMap<IpAddr, u64>>,
}
