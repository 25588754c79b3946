use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// Networks a classroom box can be reached on. The local CA may only vouch for names inside
/// these (X.509 name constraints), so a stolen box's CA cannot impersonate any public site.
pub const LOCAL_NETWORKS: [&str; 8] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "::1/128",
];

/// DNS suffixes the local CA may vouch for, besides the box's own host name.
pub const LOCAL_DNS_SUFFIXES: [&str; 4] = ["local", "localhost", "home.arpa", "internal"];

pub fn local_networks() -> Vec<IpNet> {
    LOCAL_NETWORKS
        .iter()
        .filter_map(|net| net.parse().ok())
        .collect()
}

fn is_local(ip: &IpAddr) -> bool {
    local_networks().iter().any(|net| net.contains(ip))
}

/// The names and addresses the server certificate must cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerNames {
    pub dns: BTreeSet<String>,
    pub ips: BTreeSet<IpAddr>,
}

impl ServerNames {
    /// `host` and `host.local`, `localhost`, loopback, and the given addresses.
    pub fn new(host: &str, ips: Vec<IpAddr>) -> Self {
        let host = host.trim_end_matches(".local").to_ascii_lowercase();
        let dns = [
            host.clone(),
            format!("{host}.local"),
            "localhost".to_string(),
        ]
        .into_iter()
        .collect();
        let mut all_ips: BTreeSet<IpAddr> = ips.into_iter().filter(is_local).collect();
        all_ips.insert(IpAddr::from([127, 0, 0, 1]));
        all_ips.insert(IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]));
        Self { dns, ips: all_ips }
    }

    /// This machine: its host name (or the configured one) and every local-network interface
    /// address (public ones are left out: the CA's name constraints would not cover them).
    pub fn of_this_machine(configured_host: Option<&str>) -> Self {
        let host = configured_host
            .map(str::to_string)
            .unwrap_or_else(system_host_name);
        let ips = if_addrs::get_if_addrs()
            .unwrap_or_default()
            .into_iter()
            .map(|iface| iface.ip())
            .collect();
        Self::new(&host, ips)
    }

    /// Whether `name` (a DNS name or an address, without port) is one of this box's.
    pub fn knows(&self, name: &str) -> bool {
        match name.parse::<IpAddr>() {
            Ok(ip) => self.ips.contains(&ip),
            Err(_) => self.dns.contains(&name.to_ascii_lowercase()),
        }
    }

    /// Keeps old addresses, so a laptop that moves between networks does not flip-flop.
    pub fn merged_with(&self, other: &ServerNames) -> ServerNames {
        ServerNames {
            dns: self.dns.union(&other.dns).cloned().collect(),
            ips: self.ips.union(&other.ips).cloned().collect(),
        }
    }

    /// The box's own name (without `.local`).
    pub fn host(&self) -> &str {
        self.dns
            .iter()
            .find(|n| !n.ends_with(".local") && *n != "localhost")
            .map(String::as_str)
            .unwrap_or("localhost")
    }
}

impl fmt::Display for ServerNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dns: Vec<&str> = self.dns.iter().map(String::as_str).collect();
        let ips: Vec<String> = self.ips.iter().map(IpAddr::to_string).collect();
        write!(f, "{} {}", dns.join(","), ips.join(","))
    }
}

pub fn system_host_name() -> String {
    let raw = gethostname::gethostname()
        .to_string_lossy()
        .to_ascii_lowercase();
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if clean.is_empty() {
        "tavla".to_string()
    } else {
        clean
    }
}
