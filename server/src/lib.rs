//! Tavla: a classroom collaboration server for one box in the classroom.
//!
//! # Layout
//!
//! Dependencies point down this list (one exception: `protocol` names the channel types it
//! serializes); there are no import cycles, and nothing below `http` knows about axum.
//!
//! - [`cli`]: the command line (`tavla serve`, `tavla teacher add`); `main.rs` only calls it.
//! - [`app`]: [`app::start`] opens the data dir, store and certificates, binds, serves; ordered
//!   shutdown. Tests start it on port 0. [`admin`]: the local admin socket (`tavla backup`
//!   while the server runs).
//! - [`http`]: axum routers (JSON API, `/ws`, `/yjs`, embedded web client, CA files, metrics;
//!   the sync listener's routes for paired boxes), the TLS accept loop, the plain-HTTP
//!   redirector, rate limits, security headers. Handlers parse, call one [`service`] function
//!   and answer; socket loops hold a grant.
//! - [`service`]: the use-cases (end a lesson, delete a pupil, reissue a card, log out, export a
//!   pupil's data, the retention sweep …), one function each; the one place that changes state
//!   and says what follows (sessions ended, grants revoked, data deleted everywhere).
//! - [`error`]: the one error type that reaches clients; WebSocket close codes.
//! - [`channels`]: private teacher↔pupil threads, announcements, class and group chat, raised
//!   hands; numbered, group-committed, delivered in order, resumable.
//! - [`docs`]: shared documents: y-protocols rooms on yrs, the hub that loads/fans out/unloads
//!   them, the group-commit persistence worker, document names and owners, versions, and
//!   copies (hand-outs, restored versions).
//! - [`media`]: live audio and video: the WebRTC forwarding unit (SFU) for lesson streams,
//!   talk-back and private calls; its signaling rides on `/ws`. A lesson from a paired box is
//!   received once and forwarded to this box's viewers.
//! - [`lessons`]: classes, rosters, login cards, lessons, join codes, groups, presence,
//!   classroom camera links.
//! - [`protocol`]: the JSON messages of the client WebSocket, and the media stream names.
//! - [`uploads`]: files attached to messages: safe types only, checked by their bytes.
//! - [`vpn`]: WireGuard for pupils at home: the box's keys, a peer per pupil, the files
//!   WireGuard reads.
//! - [`auth`]: [`auth::Who`] (the one identity), [`auth::can`] (the whole permission table),
//!   grants held by open connections, sessions, teachers, setup links.
//! - [`privacy`]: the contract every subsystem that stores personal data implements next to
//!   its data (`Keeper`: what it holds about a pupil, forget the pupil; `LessonKeeper`: forget
//!   an expired lesson). The service layer names a keeper for every store tree.
//! - [`federation`]: paired boxes: this box's own key pair, the paired certificates and the
//!   pairing code (mutual TLS, pinned fingerprints), the paired boxes in the store, the
//!   box-to-box messages and one request (or a relay's socket) to another box.
//!   `service::boxes` decides what crosses.
//! - [`discovery`]: the box announced with mDNS (`_tavla._tcp.local.`, `<name>.local`), and
//!   browsing for boxes nearby (`tavla discover`).
//! - [`tls`]: the local certificate authority, server certificates, renewal.
//! - [`store`]: the small `Store` trait, its sled implementation, an in-memory one for tests.
//! - [`datadir`]: the data directory's layout and the checks that refuse foreign files.
//! - [`backup`]: one file with the store at one moment and the certificates; restore.
//! - [`config`]: defaults < `tavla.toml` < `TAVLA_*` < flags.
//! - [`ids`]: typed ids (teacher, class, pupil, lesson, group, participant), checked once where
//!   they come in and carried as their own types from there.
//! - [`profile`]: a person's own settings for how Tavla looks and speaks to them (text size,
//!   contrast, language, read aloud …), kept with their class-list entry or teacher account.
//! - [`i18n`]: the words the server writes itself (the export's readable page), read from the
//!   web client's language files.
//! - [`clock`], [`validate`], [`qr`], [`memory`], [`limits_os`], [`notify`] (systemd's
//!   readiness and watchdog): small helpers.

pub mod admin;
pub mod app;
pub mod auth;
pub mod backup;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod datadir;
pub mod discovery;
pub mod docs;
pub mod error;
pub mod http;
pub mod i18n;
pub mod ids;
pub mod lessons;
pub mod limits_os;
pub mod media;
pub mod memory;
pub mod notify;
pub mod privacy;
pub mod profile;
pub mod protocol;
pub mod qr;
pub mod service;
pub mod store;
pub mod tls;
pub mod uploads;
pub mod validate;
pub mod vpn;

pub use app::{start, start_with_clock, Running};
pub use config::Config;
