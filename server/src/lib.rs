//! Tavla: a classroom collaboration server for one box in the classroom.
//!
//! # Layout
//!
//! The layers, top to bottom. A module imports only modules on lines below its own (never
//! one beside it or above it), so there are no import cycles; `tests/tests/layers.rs` holds
//! this list against the code's `crate::` paths, and checks that nothing below `http` knows
//! axum and that only `auth` and `service` ask `auth::can`.
//!
//! 1. `cli`
//! 2. `app`
//! 3. `admin`
//! 4. `http`
//! 5. `service`
//! 6. `media`
//! 7. `protocol`, `error`
//! 8. `channels`
//! 9. `docs`
//! 10. `lessons`
//! 11. `auth`, `uploads`, `vpn`
//! 12. `privacy`, `backup`
//! 13. `store`, `ids`, `profile`, `tls`
//! 14. `clock`, `config`, `datadir`, `discovery`, `i18n`, `limits_os`, `memory`, `notify`, `qr`, `validate`
//!
//! What each is for:
//!
//! - [`cli`]: the command line (`tavla serve`, `tavla teacher add`, backups, the VPN);
//!   `main.rs` only calls it.
//! - [`app`]: [`app::start`] opens the data dir, store and certificates, binds, serves; ordered
//!   shutdown; the background loops (lessons that run out, the store's recovery, paired boxes).
//!   Tests start it on port 0. [`admin`]: the local admin socket (`tavla backup` while the
//!   server runs).
//! - [`http`]: axum — the JSON API, `/ws`, `/yjs`, the sync listener's routes for paired boxes,
//!   the embedded web client, CA files, metrics, TLS accept loops, the plain-HTTP redirector,
//!   rate limits, security headers, and the HTTP table of errors (`http::errors`). Handlers
//!   parse, call one [`service`] function and answer; socket loops hold a grant and hand each
//!   request to the service layer.
//! - [`service`]: every use-case, one function each, whatever the transport: ending a lesson,
//!   deleting a pupil, sending a message, raising a hand, letting a pupil speak, a private
//!   call, pairing a box, the retention sweep … The one place that asks `auth::can`, changes
//!   state and says what follows (sessions ended, grants revoked, data deleted everywhere).
//!   Its trees: `service::messages` (with one connection's message session),
//!   `service::media`, `service::boxes` (paired boxes, with the `federation` they stand on:
//!   identity, pairing trust, wire format, client), `service::privacy`.
//! - [`media`]: live audio and video: the WebRTC forwarding unit (SFU), one connection's peers
//!   and signaling mechanics (`media::link`), a lesson's stage; it applies what the service
//!   layer decided. A lesson from a paired box is received once and forwarded here.
//! - [`protocol`]: the client WebSocket's JSON messages, the media stream names, and the close
//!   codes of every socket. [`error`]: the service layer's error, free of any transport.
//! - [`channels`]: private teacher↔pupil threads, announcements, class and group chat, raised
//!   hands; numbered, group-committed, delivered in order, resumable.
//! - [`docs`]: shared documents: y-protocols rooms on yrs, the hub that loads/fans out/unloads
//!   them, the group-commit persistence worker, document names and owners, versions, copies,
//!   and the room documents may take (`docs::quota`).
//! - [`lessons`]: classes, rosters, login cards, lessons, join codes, groups, presence,
//!   classroom camera links.
//! - [`auth`]: [`auth::Who`] (the one identity), [`auth::can`] (the whole permission table),
//!   grants held by open connections, sessions, teachers, the devices a teacher signed in on.
//!   [`uploads`]: files attached to messages and pictures in documents, checked by their
//!   bytes. [`vpn`]: WireGuard for pupils at home.
//! - [`privacy`]: the contract every subsystem that stores personal data implements next to
//!   its data (`Keeper`, `LessonKeeper`); the service layer names a keeper for every store
//!   tree. [`backup`]: one file with the store at one moment and the certificates; restore.
//! - [`store`]: the small `Store` trait, its sled implementation behind the guards (off the
//!   async threads, a floor under the disk, reopened after a failure), an in-memory one for
//!   tests, the disk's free space. [`ids`]: typed ids, checked once where they come in.
//!   [`profile`]: a person's own display settings. [`tls`]: the local certificate authority.
//! - [`config`]: defaults < `tavla.toml` < `TAVLA_*` < flags. [`discovery`]: mDNS.
//!   [`datadir`]: the data directory's layout. [`i18n`]: the server's own words.
//!   [`clock`], [`validate`], [`qr`], [`memory`], [`limits_os`], [`notify`] (systemd's
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
