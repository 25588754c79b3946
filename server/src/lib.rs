pub mod auth;
pub mod clock;
pub mod config;
pub mod datadir;
pub mod lessons;
pub mod store;
pub mod tls;
pub mod validate;
