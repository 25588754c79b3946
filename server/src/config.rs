//! Configuration: built-in defaults < `tavla.toml` < `TAVLA_*` environment < command-line flags.
//!
//! Unknown keys in the file and unknown `TAVLA_*` variables are errors that name the key, so a
//! typo never silently leaves a school on a default it did not choose.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::{IpNet, Ipv4Net};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the store, the certificate authority and the certificates live.
    pub data_dir: PathBuf,
    /// HTTPS address. Port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// Plain HTTP address: redirects to HTTPS and serves the CA certificate for installation.
    pub http_listen: SocketAddr,
    /// A certificate chain (PEM) from the school owner, used instead of the local CA.
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// The box's name on the network (default: the system host name); also `<name>.local`.
    pub host_name: Option<String>,
    /// Networks whose pupils are at home (the school's VPN), e.g. `["10.8.0.0/24"]`.
    pub home_networks: Vec<IpNet>,
    /// A lesson ends by itself this many hours after it started.
    pub lesson_hours: u32,
    pub limits: Limits,
    pub media: MediaConfig,
    pub retention: Retention,
    pub discovery: Discovery,
    pub vpn: VpnConfig,
    pub boxes: BoxesConfig,
}

/// Paired classroom boxes (docs/OPERATIONS.md, "Pairing boxes").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BoxesConfig {
    /// The sync listener other boxes connect to (mutual TLS; unpaired boxes are refused in the
    /// handshake). Port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// How often each paired box is asked for what changed, in milliseconds.
    pub sync_every_ms: u64,
}

/// The sync listener's port unless configured; also what a typed address without a port means.
pub const DEFAULT_SYNC_PORT: u16 = 8444;

impl Default for BoxesConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], DEFAULT_SYNC_PORT)),
            sync_every_ms: 10_000,
        }
    }
}

/// The WireGuard VPN for pupils at home (docs/OPERATIONS.md). Its network counts as "at home"
/// once the box has VPN keys (the first access a teacher gives, or `tavla vpn init`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VpnConfig {
    /// The VPN's network; the box takes its first address, pupils the next ones.
    pub subnet: ipnet::Ipv4Net,
    /// The UDP port the box's WireGuard interface listens on.
    pub listen_port: u16,
    /// Where pupils reach it from home: the school's public address and the forwarded port
    /// (`vpn.skole.kommune.no:51820`). Without it, configs name the box's own LAN address.
    pub endpoint: Option<String>,
}

impl Default for VpnConfig {
    fn default() -> Self {
        Self {
            subnet: Ipv4Net::new(std::net::Ipv4Addr::new(10, 8, 0, 0), 24).unwrap_or_default(),
            listen_port: 51820,
            endpoint: None,
        }
    }
}

/// Announcing the box on the network with mDNS (`_tavla._tcp.local.` and `<host_name>.local`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Discovery {
    /// Off where the school's network forbids multicast, or with `--no-mdns`.
    pub enabled: bool,
}

impl Default for Discovery {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// How long the box keeps things, in days; a daily sweep deletes what is older
/// (docs/PRIVACY.md). A pupil on the class list keeps their own document while they are on it;
/// deleting the pupil deletes everything about them at once.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// A lesson and everything in it (its documents, chat, announcements, guests' messages,
    /// attendance, groups, hands, files), counted from its end. Default: a school year and a
    /// summer.
    pub lesson_days: u32,
    /// Messages in a class-list pupil's private thread with the teacher (it spans lessons).
    pub private_message_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            lesson_days: 400,
            private_message_days: 400,
        }
    }
}

/// Live video and voice (WebRTC). All media goes over one UDP port, so a VPN or firewall needs
/// one rule; there is no STUN or TURN server outside the school.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// The UDP port every browser sends its audio and video to (0 picks a free port: tests).
    pub udp_port: u16,
    /// Instead of the one port: a port per peer connection from this range, `[first, last]`,
    /// for networks whose rules want that. `udp_port` is then not used.
    pub udp_port_range: Option<[u16; 2]>,
    /// Addresses offered to browsers (ICE host candidates). Empty: every address of the box
    /// except loopback, or only the HTTPS address when `listen` names one.
    pub addresses: Vec<std::net::IpAddr>,
    /// Peer connections (sending or receiving) one lesson may hold at once.
    pub max_peers_per_lesson: usize,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            udp_port: 8443,
            udp_port_range: None,
            addresses: Vec::new(),
            max_peers_per_lesson: 400,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest HTTP request body the JSON API accepts.
    pub max_body_bytes: usize,
    /// Largest file a message may carry (an image or a PDF).
    pub max_upload_bytes: usize,
    /// Teacher login (and setup-link) attempts per minute for one name from one client
    /// address. Someone guessing a teacher's password is slowed at their own address; the
    /// teacher at another address still gets in.
    pub login_per_minute: u32,
    /// Login attempts per minute from one client address, whatever the names.
    pub login_per_minute_per_address: u32,
    /// The ceiling for one name from all addresses together: far above what one address may
    /// spend, so only many devices at once can slow a teacher's own login.
    pub login_per_minute_per_name: u32,
    /// Join attempts (code or card) per minute per client address.
    pub join_per_minute_per_address: u32,
    /// Join attempts per minute for one join code from one client address. Each device has
    /// its own tries, so nobody can spend a lesson's code for the rest of the class.
    pub join_per_minute_per_code: u32,
    /// Largest WebSocket message a client may send.
    pub ws_max_message_bytes: usize,
    /// WebSocket messages a client may send per second (bursts of twice this are allowed).
    pub ws_messages_per_second: u32,
    /// Pupils (rostered and guests) who may take part in one lesson.
    pub max_pupils_per_lesson: usize,
    /// Largest document (bytes of its updates); a write past it closes the writer with 4013.
    pub max_doc_bytes: usize,
    /// Largest frame on a document connection (`/yjs/...`).
    pub doc_max_frame_bytes: usize,
    /// Frames per second a document connection may send (bursts of twice this).
    pub doc_messages_per_second: u32,
    /// A document nobody is connected to leaves memory after this many milliseconds; one that
    /// is open but nobody edits is put to sleep (held as one encoded update) after as long.
    pub doc_idle_unload_ms: u64,
    /// How often (milliseconds) to look for lessons whose time ran out, to close them and keep
    /// an automatic version of their documents.
    pub lesson_check_ms: u64,
    /// Files (attachments and pictures) one sender may keep on the box.
    pub upload_quota_per_sender_bytes: u64,
    /// Files one device (client address) may store, whoever signs in on it: one laptop with
    /// many guest names is one share (pupils and guests; counted since the box started).
    pub upload_quota_per_address_bytes: u64,
    /// Files all senders of one lesson may keep together.
    pub upload_quota_per_lesson_bytes: u64,
    /// Files the whole box may keep (sized for a small SD card).
    pub upload_quota_box_bytes: u64,
    /// Free disk space that files and what pupils and guests add to documents never take;
    /// the teacher's writes, messages and the lesson's own records go on below it.
    pub min_free_disk_bytes: u64,
    /// Free disk space below which the store takes no more writes at all (removals still go
    /// in), so its database never meets a full disk. Far below `min_free_disk_bytes`.
    pub disk_floor_bytes: u64,
    /// What one pupil or guest may add to documents in all (bytes of updates).
    pub doc_quota_per_person_bytes: u64,
    /// What one device (client address) may add to documents, whoever signs in on it.
    pub doc_quota_per_address_bytes: u64,
    /// What the pupils and guests of one lesson may add to documents together, with the
    /// versions kept at its end.
    pub doc_quota_per_lesson_bytes: u64,
    /// One pupil's or guest's share of a document others write in too (the class's, a
    /// group's): past it their writes there are refused and the others' go on.
    pub doc_share_of_shared_bytes: u64,
    /// A file uploaded for a message but never sent is deleted after this many milliseconds.
    pub unsent_upload_ms: u64,
    /// Open HTTPS connections one client address may hold at once; more are closed at once.
    /// A browser needs a handful (pages, `/ws`, one `/yjs` per open document).
    pub connections_per_address: usize,
    /// A TLS handshake must finish within this many milliseconds.
    pub tls_handshake_ms: u64,
    /// A request's headers must arrive within this many milliseconds (HTTP/1).
    pub header_read_ms: u64,
    /// A connection on which nothing arrives for this many milliseconds is closed (sockets
    /// are pinged more often than this, so only dead or stalled ones are).
    pub idle_connection_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("tavla-data"),
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            http_listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            tls_cert: None,
            tls_key: None,
            host_name: None,
            home_networks: Vec::new(),
            lesson_hours: 10,
            limits: Limits::default(),
            media: MediaConfig::default(),
            retention: Retention::default(),
            discovery: Discovery::default(),
            vpn: VpnConfig::default(),
            boxes: BoxesConfig::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_upload_bytes: 5 * 1024 * 1024,
            login_per_minute: 10,
            login_per_minute_per_address: 30,
            login_per_minute_per_name: 120,
            join_per_minute_per_address: 20,
            join_per_minute_per_code: 10,
            ws_max_message_bytes: 64 * 1024,
            ws_messages_per_second: 20,
            max_pupils_per_lesson: 200,
            max_doc_bytes: 16 * 1024 * 1024,
            doc_max_frame_bytes: 2 * 1024 * 1024,
            upload_quota_per_sender_bytes: 50 * 1024 * 1024,
            upload_quota_per_address_bytes: 100 * 1024 * 1024,
            upload_quota_per_lesson_bytes: 500 * 1024 * 1024,
            upload_quota_box_bytes: 4 * 1024 * 1024 * 1024,
            min_free_disk_bytes: 512 * 1024 * 1024,
            disk_floor_bytes: 64 * 1024 * 1024,
            doc_quota_per_person_bytes: 64 * 1024 * 1024,
            doc_quota_per_address_bytes: 128 * 1024 * 1024,
            doc_quota_per_lesson_bytes: 256 * 1024 * 1024,
            doc_share_of_shared_bytes: 4 * 1024 * 1024,
            unsent_upload_ms: 60 * 60 * 1000,
            connections_per_address: 64,
            tls_handshake_ms: 10_000,
            header_read_ms: 10_000,
            idle_connection_ms: 60_000,
            doc_messages_per_second: 100,
            doc_idle_unload_ms: 30_000,
            lesson_check_ms: 60_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("unknown environment variable {0}; known ones are listed in `tavla serve --help`")]
    UnknownEnv(String),
    #[error("{0}")]
    Invalid(String),
}

/// Values given on the command line or in `TAVLA_*` variables (clap merges those two).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub http_listen: Option<SocketAddr>,
    pub sync_listen: Option<SocketAddr>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub host_name: Option<String>,
    pub home_networks: Option<Vec<IpNet>>,
    pub media_udp_port: Option<u16>,
    /// `--no-mdns`: do not announce the box.
    pub no_mdns: bool,
}

/// Every `TAVLA_*` variable Tavla reads.
pub const KNOWN_ENV: [&str; 11] = [
    "TAVLA_CONFIG",
    "TAVLA_DATA_DIR",
    "TAVLA_LISTEN",
    "TAVLA_HTTP_LISTEN",
    "TAVLA_SYNC_LISTEN",
    "TAVLA_TLS_CERT",
    "TAVLA_TLS_KEY",
    "TAVLA_HOST_NAME",
    "TAVLA_HOME_NETWORKS",
    "TAVLA_MEDIA_UDP_PORT",
    "TAVLA_NO_MDNS",
];

impl Config {
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Loads the file (if any), then applies overrides, then validates.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Self, ConfigError> {
        check_env(std::env::vars().map(|(k, _)| k))?;
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })?;
                Self::from_toml(&text, path)?
            }
            None => Self::default(),
        };
        config.apply(overrides);
        config.validate()?;
        Ok(config)
    }

    fn apply(&mut self, o: Overrides) {
        if let Some(v) = o.data_dir {
            self.data_dir = v;
        }
        if let Some(v) = o.listen {
            self.listen = v;
        }
        if let Some(v) = o.http_listen {
            self.http_listen = v;
        }
        if let Some(v) = o.sync_listen {
            self.boxes.listen = v;
        }
        if o.tls_cert.is_some() {
            self.tls_cert = o.tls_cert;
        }
        if o.tls_key.is_some() {
            self.tls_key = o.tls_key;
        }
        if o.host_name.is_some() {
            self.host_name = o.host_name;
        }
        if let Some(v) = o.home_networks {
            self.home_networks = v;
        }
        if let Some(v) = o.media_udp_port {
            self.media.udp_port = v;
        }
        if o.no_mdns {
            self.discovery.enabled = false;
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::Invalid(
                "tls_cert and tls_key go together: give both or neither".into(),
            ));
        }
        if self.lesson_hours == 0 || self.lesson_hours > 24 * 7 {
            return Err(ConfigError::Invalid(
                "lesson_hours must be between 1 and 168".into(),
            ));
        }
        let l = &self.limits;
        if l.connections_per_address == 0
            || l.tls_handshake_ms == 0
            || l.header_read_ms == 0
            || l.idle_connection_ms == 0
        {
            return Err(ConfigError::Invalid(
                "connection limits and timeouts must be at least 1".into(),
            ));
        }
        if l.login_per_minute == 0
            || l.login_per_minute_per_address == 0
            || l.login_per_minute_per_name == 0
            || l.join_per_minute_per_address == 0
            || l.join_per_minute_per_code == 0
            || l.ws_messages_per_second == 0
            || l.doc_messages_per_second == 0
        {
            return Err(ConfigError::Invalid(
                "rate limits must be at least 1".into(),
            ));
        }
        if self.retention.lesson_days == 0 || self.retention.private_message_days == 0 {
            return Err(ConfigError::Invalid(
                "retention days must be at least 1 (deleting a pupil deletes at once)".into(),
            ));
        }
        if let Some([first, last]) = self.media.udp_port_range {
            if first == 0 || first > last {
                return Err(ConfigError::Invalid(
                    "media.udp_port_range must be [first, last] with 0 < first <= last".into(),
                ));
            }
        }
        if self.boxes.sync_every_ms < 100 {
            return Err(ConfigError::Invalid(
                "boxes.sync_every_ms must be at least 100".into(),
            ));
        }
        if let Some(name) = &self.host_name {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                return Err(ConfigError::Invalid(format!(
                    "host_name {name:?} may only hold letters a-z, digits, '-' and '.'"
                )));
            }
        }
        Ok(())
    }

    /// A config for tests: loopback, ephemeral ports, the given data dir.
    pub fn for_tests(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            host_name: Some("tavla-test".into()),
            media: MediaConfig {
                udp_port: 0,
                ..MediaConfig::default()
            },
            // Tests never announce anything on the machine's network.
            discovery: Discovery { enabled: false },
            boxes: BoxesConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                sync_every_ms: 200,
            },
            ..Self::default()
        }
    }
}

fn check_env(keys: impl Iterator<Item = String>) -> Result<(), ConfigError> {
    for key in keys {
        if key.starts_with("TAVLA_") && !KNOWN_ENV.contains(&key.as_str()) {
            return Err(ConfigError::UnknownEnv(key));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_override_defaults_and_flags_override_the_file() {
        let path = Path::new("tavla.toml");
        let mut config = Config::from_toml(
            "listen = \"127.0.0.1:9443\"\nlesson_hours = 3\n[limits]\nlogin_per_minute = 4\n",
            path,
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9443);
        assert_eq!(config.lesson_hours, 3);
        assert_eq!(config.limits.login_per_minute, 4);
        assert_eq!(
            config.limits.join_per_minute_per_code, 10,
            "unset keys keep defaults"
        );
        config.apply(Overrides {
            listen: Some("127.0.0.1:7443".parse().unwrap()),
            ..Overrides::default()
        });
        assert_eq!(config.listen.port(), 7443);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::from_toml("lisen = \"x\"\n", Path::new("t.toml")).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        let err = Config::from_toml("[limits]\nfoo = 1\n", Path::new("t.toml")).unwrap_err();
        assert!(err.to_string().contains("foo"), "{err}");
    }

    #[test]
    fn unknown_env_is_named() {
        let err =
            check_env(["PATH".to_string(), "TAVLA_LISTN".to_string()].into_iter()).unwrap_err();
        assert!(err.to_string().contains("TAVLA_LISTN"));
        assert!(check_env(KNOWN_ENV.iter().map(|s| s.to_string())).is_ok());
    }

    #[test]
    fn a_backwards_media_port_range_is_refused() {
        let mut config = Config::default();
        config.media.udp_port_range = Some([50100, 50000]);
        assert!(config.validate().is_err());
        config.media.udp_port_range = Some([50000, 50100]);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn cert_without_key_is_refused() {
        let config = Config {
            tls_cert: Some("a.pem".into()),
            ..Config::default()
        };
        assert!(config.validate().is_err());
    }
}
