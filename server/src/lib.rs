//! Tavla: a classroom collaboration server for one box in the classroom.
//!
//! # Layout
//!
//! Dependencies point down this list: `http` uses everything; `auth` and `lessons` use only
//! `store`, `clock` and `validate`; nothing below `http` knows about axum.
//!
//! - [`cli`]: the command line (`tavla serve`, `tavla teacher add`); `main.rs` only calls it.
//! - [`app`]: [`app::start`] opens the data dir, store and certificates, binds, serves; ordered
//!   shutdown. Tests start it on port 0.
//! - [`http`]: axum routers (JSON API, `/ws`, embedded web client, CA files, metrics), the TLS
//!   accept loop, the plain-HTTP redirector, rate limits, security headers.
//! - [`protocol`]: the JSON messages of the client WebSocket.
//! - [`error`]: the one error type that reaches clients; WebSocket close codes.
//! - [`auth`]: teachers, sessions, setup links, and [`auth::can`], the whole permission table.
//! - [`lessons`]: classes, rosters, login cards, lessons, join codes, groups, presence,
//!   classroom camera links.
//! - [`channels`]: private teacher↔pupil threads, announcements, class and group chat, raised
//!   hands; numbered, group-committed, delivered in order, resumable.
//! - [`docs`]: shared documents: y-protocols rooms on yrs, the hub that loads/fans out/unloads
//!   them, the group-commit persistence worker, document names and owners, versions, and
//!   copies (hand-outs, restored versions).
//! - [`media`]: live audio and video: the WebRTC forwarding unit (SFU) for lesson streams,
//!   talk-back and private calls; its signaling rides on `/ws`.
//! - [`uploads`]: files attached to messages: safe types only, checked by their bytes.
//! - [`tls`]: the local certificate authority, server certificates, renewal.
//! - [`store`]: the small `Store` trait, its sled implementation, an in-memory one for tests.
//! - [`datadir`]: the data directory's layout and the checks that refuse foreign files.
//! - [`config`]: defaults < `tavla.toml` < `TAVLA_*` < flags.
//! - [`clock`], [`validate`], [`qr`], [`memory`]: small helpers.

pub mod app;
pub mod auth;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod datadir;
pub mod docs;
pub mod error;
pub mod http;
pub mod ids;
pub mod lessons;
pub mod media;
pub mod memory;
pub mod protocol;
pub mod qr;
pub mod service;
pub mod store;
pub mod tls;
pub mod uploads;
pub mod validate;

pub use app::{start, start_with_clock, Running};
pub use config::Config;
