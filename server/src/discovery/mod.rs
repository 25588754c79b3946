//! Finding the classroom box without typing an address: the box announces itself with mDNS
//! (the `mdns-sd` crate) as the service `_tavla._tcp.local.` and as the host `<box-name>.local`
//! on every interface that is up, follows its addresses as they change (Wi-Fi, Ethernet, the
//! VPN coming and going) and withdraws the announcement when it stops. `tavla discover` and the
//! teacher's page browse for the boxes nearby.
//!
//! Nothing here knows about HTTP; `app` starts the announcement, `cli` and `service` browse.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use mdns_sd::{
    HostnameResolutionEvent, IfKind, ResolvedService, ServiceDaemon, ServiceEvent, ServiceInfo,
};
use serde::Serialize;

/// The DNS-SD service type every Tavla box announces.
pub const SERVICE_TYPE: &str = "_tavla._tcp.local.";

/// How often the daemon looks for changed interface addresses, in seconds: a VPN interface
/// that comes up is announced within this.
const ADDRESS_CHECK_SECONDS: u32 = 2;

/// After a name's first addresses, how long to wait for those of the other IP family.
const OTHER_FAMILY_WAIT: Duration = Duration::from_millis(500);

/// How long a withdrawal waits for its goodbye packets to go out.
const GOODBYE_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
#[error("mDNS: {0}")]
pub struct DiscoveryError(String);

impl From<mdns_sd::Error> for DiscoveryError {
    fn from(e: mdns_sd::Error) -> Self {
        Self(e.to_string())
    }
}

/// What a box says about itself, in its TXT record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The box's name (`rom-204`); it is also reachable as `<name>.local`.
    pub name: String,
    pub https_port: u16,
    /// SHA-256 of the box's CA certificate (hex), so a device can check what it trusts.
    pub ca_fingerprint: Option<String>,
    /// Where paired boxes connect (another box's teacher pairs with `<name>.local:<sync_port>`).
    pub sync_port: u16,
}

/// The box's announcement; [`Announcement::stop`] withdraws it (also done on drop).
pub struct Announcement {
    daemon: ServiceDaemon,
    fullname: String,
    stopped: bool,
}

impl Announcement {
    /// Announces the box on every interface but loopback (a phone cannot reach the box's
    /// 127.0.0.1), with addresses filled in and kept up to date by the daemon.
    pub fn start(profile: &Profile) -> Result<Self, DiscoveryError> {
        let daemon = ServiceDaemon::new()?;
        daemon.disable_interface(vec![IfKind::LoopbackV4, IfKind::LoopbackV6])?;
        daemon.set_ip_check_interval(ADDRESS_CHECK_SECONDS)?;
        let port = profile.https_port.to_string();
        let sync_port = profile.sync_port.to_string();
        let version = env!("CARGO_PKG_VERSION");
        let mut txt = vec![
            ("version", version),
            ("port", port.as_str()),
            ("sync_port", sync_port.as_str()),
            ("name", profile.name.as_str()),
        ];
        if let Some(fingerprint) = &profile.ca_fingerprint {
            txt.push(("ca_sha256", fingerprint.as_str()));
        }
        let host = format!("{}.local.", profile.name);
        let info = ServiceInfo::new(
            SERVICE_TYPE,
            &profile.name,
            &host,
            (),
            profile.https_port,
            &txt[..],
        )?
        .enable_addr_auto();
        let fullname = info.get_fullname().to_string();
        daemon.register(info)?;
        tracing::info!(host = %host.trim_end_matches('.'), "announced on the network (mDNS)");
        Ok(Self {
            daemon,
            fullname,
            stopped: false,
        })
    }

    /// Withdraws the announcement (goodbye packets, so browsers drop the box at once) and
    /// stops the daemon.
    pub fn stop(mut self) {
        self.withdraw();
    }

    fn withdraw(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        if let Ok(done) = self.daemon.unregister(&self.fullname) {
            let _ = done.recv_timeout(GOODBYE_WAIT);
        }
        if let Ok(done) = self.daemon.shutdown() {
            let _ = done.recv_timeout(GOODBYE_WAIT);
        }
        tracing::info!("withdrew the mDNS announcement");
    }
}

impl Drop for Announcement {
    fn drop(&mut self) {
        self.withdraw();
    }
}

/// A box found on the network.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FoundBox {
    pub name: String,
    /// `<name>.local`
    pub host: String,
    pub addresses: Vec<IpAddr>,
    pub port: u16,
    pub version: Option<String>,
    pub ca_sha256: Option<String>,
    /// Its port for paired boxes, if it says (older boxes do not).
    pub sync_port: Option<u16>,
}

impl FoundBox {
    fn from_resolved(service: &ResolvedService) -> Self {
        let mut addresses: Vec<IpAddr> = service
            .get_addresses()
            .iter()
            .map(|a| a.to_ip_addr())
            .collect();
        addresses.sort();
        let txt = |key: &str| service.get_property_val_str(key).map(str::to_string);
        Self {
            name: txt("name").unwrap_or_else(|| instance_name(service.get_fullname())),
            host: service.get_hostname().trim_end_matches('.').to_string(),
            addresses,
            port: service.get_port(),
            version: txt("version"),
            ca_sha256: txt("ca_sha256"),
            sync_port: txt("sync_port").and_then(|p| p.parse().ok()),
        }
    }
}

/// `rom-204` from `rom-204._tavla._tcp.local.`
fn instance_name(fullname: &str) -> String {
    fullname
        .strip_suffix(SERVICE_TYPE)
        .unwrap_or(fullname)
        .trim_end_matches('.')
        .to_string()
}

/// What browsing saw happen.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Seen {
    Found(FoundBox),
    Gone { name: String },
}

/// Browses for `wait`, calling `on_seen` for every box found (again when its addresses
/// change) and every box that withdrew.
pub fn browse(wait: Duration, mut on_seen: impl FnMut(Seen)) -> Result<(), DiscoveryError> {
    let daemon = ServiceDaemon::new()?;
    let events = daemon.browse(SERVICE_TYPE)?;
    let deadline = Instant::now() + wait;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok(ServiceEvent::ServiceResolved(service)) => {
                on_seen(Seen::Found(FoundBox::from_resolved(&service)));
            }
            Ok(ServiceEvent::ServiceRemoved(_, fullname)) => on_seen(Seen::Gone {
                name: instance_name(&fullname),
            }),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = daemon.stop_browse(SERVICE_TYPE);
    if let Ok(done) = daemon.shutdown() {
        let _ = done.recv_timeout(GOODBYE_WAIT);
    }
    Ok(())
}

/// The boxes on the network, each once (its latest addresses), by name.
pub fn discover(wait: Duration) -> Result<Vec<FoundBox>, DiscoveryError> {
    let mut found = BTreeMap::new();
    browse(wait, |seen| match seen {
        Seen::Found(found_box) => {
            found.insert(found_box.name.clone(), found_box);
        }
        Seen::Gone { name } => {
            found.remove(&name);
        }
    })?;
    Ok(found.into_values().collect())
}

/// The addresses `<name>.local` has, asked with mDNS (as a phone's browser would).
pub fn resolve_host(host: &str, wait: Duration) -> Result<Vec<IpAddr>, DiscoveryError> {
    let daemon = ServiceDaemon::new()?;
    let host = format!("{}.", host.trim_end_matches('.'));
    let events = daemon.resolve_hostname(&host, Some(wait.as_millis() as u64))?;
    let mut deadline = Instant::now() + wait;
    let mut addresses = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok(HostnameResolutionEvent::AddressesFound(_, found)) => {
                addresses.extend(found.iter().map(|a| a.to_ip_addr()));
                // IPv4 and IPv6 answers come apart: the other family gets a moment more.
                deadline = deadline.min(Instant::now() + OTHER_FAMILY_WAIT);
            }
            Ok(HostnameResolutionEvent::SearchTimeout(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let _ = daemon.stop_resolve_hostname(&host);
    if let Ok(done) = daemon.shutdown() {
        let _ = done.recv_timeout(GOODBYE_WAIT);
    }
    addresses.sort();
    addresses.dedup();
    Ok(addresses)
}

/// The boxes nearby, as the teacher's page shows them: browsed at most every
/// [`NEARBY_FRESH`], so opening the page often does not flood the network.
pub struct Nearby {
    enabled: bool,
    own_name: String,
    seen: std::sync::Mutex<Option<(Instant, Vec<FoundBox>)>>,
}

/// How long a browse's result is shown before the network is asked again.
pub const NEARBY_FRESH: Duration = Duration::from_secs(30);

/// How long the teacher's page listens for boxes.
const NEARBY_WAIT: Duration = Duration::from_millis(1500);

impl Nearby {
    pub fn new(enabled: bool, own_name: &str) -> Self {
        Self {
            enabled,
            own_name: own_name.to_string(),
            seen: std::sync::Mutex::new(None),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn own_name(&self) -> &str {
        &self.own_name
    }

    /// The other boxes on the network (blocking for up to [`NEARBY_WAIT`] when the last look
    /// is stale); none when discovery is off.
    pub fn boxes(&self) -> Result<Vec<FoundBox>, DiscoveryError> {
        if !self.enabled {
            return Ok(Vec::new());
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, boxes)) = seen.as_ref() {
            if at.elapsed() < NEARBY_FRESH {
                return Ok(boxes.clone());
            }
        }
        let boxes: Vec<FoundBox> = discover(NEARBY_WAIT)?
            .into_iter()
            .filter(|b| b.name != self.own_name)
            .collect();
        *seen = Some((Instant::now(), boxes.clone()));
        Ok(boxes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_name_is_read_off_its_full_name() {
        assert_eq!(instance_name("rom-204._tavla._tcp.local."), "rom-204");
        assert_eq!(instance_name("odd"), "odd");
    }
}
