pub mod clock;
pub mod config;
pub mod datadir;
pub mod store;
pub mod tls;
