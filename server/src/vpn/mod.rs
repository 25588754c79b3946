//! A WireGuard VPN for the pupil at home: the box's interface (keys made here; its private key
//! never leaves the box), one peer per pupil on the class list, and the files WireGuard reads.
//!
//! Each pupil's peer may reach the box's VPN address and nothing else (their config says
//! `AllowedIPs = <box>/32`: a split tunnel into the box, not into the school network). The
//! pupil's private key is in their config file only, handed out once; the box keeps the public
//! key. The box's interface file (`<data dir>/vpn/wg-tavla.conf`) is rewritten whenever a peer
//! comes or goes; the school starts it with `wg-quick up` (docs/OPERATIONS.md).
//!
//! Keys in `Tree::Vpn`:
//! - `box` → [`BoxKeys`] — the interface: private and public key, address, port
//! - `peer/<class>/<pupil>` → [`Peer`] — a pupil's public key and VPN address

pub mod keys;
pub mod privacy;

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::config::VpnConfig;
use crate::ids::{ClassId, PupilId};
use crate::store::{Store, StoreError, StoreExt, Tree};

#[derive(Debug, thiserror::Error)]
pub enum VpnError {
    #[error("the VPN is not set up on this box (tavla vpn init)")]
    NotSetUp,
    #[error("every address of the VPN's network is taken")]
    Full,
    #[error("no VPN access for this pupil")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The box's side of the VPN.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BoxKeys {
    pub private_key: String,
    pub public_key: String,
    /// The box's address in the VPN, with the network's prefix (`10.8.0.1/24`).
    pub address: Ipv4Net,
    pub listen_port: u16,
}

/// One pupil's access.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Peer {
    pub class_id: ClassId,
    pub pupil_id: PupilId,
    pub public_key: String,
    pub address: Ipv4Addr,
    pub created_ms: u64,
}

/// A pupil's new access: the record kept, and the config file handed to them (once).
pub struct Issued {
    pub peer: Peer,
    pub config: String,
}

const BOX_KEY: &str = "box";

pub(crate) fn peer_key(class_id: &str, pupil_id: &str) -> String {
    format!("peer/{class_id}/{pupil_id}")
}

/// The box's interface, made on first use with the configured network and port.
pub fn init(store: &dyn Store, config: &VpnConfig) -> Result<BoxKeys, VpnError> {
    if let Some(existing) = store.get_json::<BoxKeys>(Tree::Vpn, BOX_KEY)? {
        return Ok(existing);
    }
    let (private_key, public_key) = keys::generate();
    let first = config.subnet.hosts().next().ok_or(VpnError::Full)?;
    let made = BoxKeys {
        private_key,
        public_key,
        address: Ipv4Net::new(first, config.subnet.prefix_len()).map_err(|_| VpnError::Full)?,
        listen_port: config.listen_port,
    };
    store.put_json(Tree::Vpn, BOX_KEY, &made)?;
    store.flush()?;
    Ok(made)
}

pub fn box_keys(store: &dyn Store) -> Result<BoxKeys, VpnError> {
    store
        .get_json(Tree::Vpn, BOX_KEY)?
        .ok_or(VpnError::NotSetUp)
}

pub fn peers(store: &dyn Store) -> Result<Vec<Peer>, VpnError> {
    let mut all: Vec<Peer> = store.scan_json(Tree::Vpn, "peer/")?;
    all.sort_by_key(|p| p.address);
    Ok(all)
}

pub fn peer(
    store: &dyn Store,
    class_id: &ClassId,
    pupil_id: &PupilId,
) -> Result<Option<Peer>, VpnError> {
    Ok(store.get_json(Tree::Vpn, &peer_key(class_id, pupil_id))?)
}

/// Gives a pupil VPN access (a new key pair and the next free address; an earlier access of
/// theirs is replaced, so a lost config file stops working). `endpoint` is where pupils reach
/// the box from outside (the school firewall's address and port).
pub fn add_pupil(
    store: &dyn Store,
    class_id: &ClassId,
    pupil_id: &PupilId,
    endpoint: &str,
    now_ms: u64,
) -> Result<Issued, VpnError> {
    let keys_of_box = box_keys(store)?;
    let key = peer_key(class_id, pupil_id);
    store.delete(Tree::Vpn, &key)?;
    let taken: Vec<Ipv4Addr> = peers(store)?.iter().map(|p| p.address).collect();
    let address = keys_of_box
        .address
        .trunc()
        .hosts()
        .find(|a| *a != keys_of_box.address.addr() && !taken.contains(a))
        .ok_or(VpnError::Full)?;
    let (private_key, public_key) = keys::generate();
    let peer = Peer {
        class_id: class_id.clone(),
        pupil_id: pupil_id.clone(),
        public_key,
        address,
        created_ms: now_ms,
    };
    store.put_json(Tree::Vpn, &key, &peer)?;
    store.flush()?;
    let config = pupil_config(&keys_of_box, &peer, &private_key, endpoint);
    Ok(Issued { peer, config })
}

/// Takes a pupil's VPN access away; returns whether they had one.
pub fn remove_pupil(
    store: &dyn Store,
    class_id: &ClassId,
    pupil_id: &PupilId,
) -> Result<bool, VpnError> {
    let had = store
        .take(Tree::Vpn, peer_key(class_id, pupil_id).as_bytes())?
        .is_some();
    store.flush()?;
    Ok(had)
}

/// The pupil's WireGuard config: it reaches the box's VPN address and nothing else.
pub fn pupil_config(box_keys: &BoxKeys, peer: &Peer, private_key: &str, endpoint: &str) -> String {
    format!(
        "# Tavla: the classroom box, from home. Import this file in the WireGuard app.\n\
         [Interface]\n\
         PrivateKey = {private_key}\n\
         Address = {}/32\n\
         \n\
         [Peer]\n\
         PublicKey = {}\n\
         Endpoint = {endpoint}\n\
         AllowedIPs = {}/32\n\
         PersistentKeepalive = 25\n",
        peer.address,
        box_keys.public_key,
        box_keys.address.addr(),
    )
}

/// Where the box's interface file lives in the data directory.
pub fn interface_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("vpn").join("wg-tavla.conf")
}

/// Rewrites the interface file from the store (0600: it holds the box's private key); nothing
/// while the VPN is not set up.
pub fn write_interface_file(store: &dyn Store, data_dir: &std::path::Path) -> Result<(), String> {
    let Ok(keys) = box_keys(store) else {
        return Ok(());
    };
    let text = interface_config(&keys, &peers(store).map_err(|e| e.to_string())?);
    let path = interface_path(data_dir);
    if let Some(dir) = path.parent() {
        crate::datadir::create_private_dir(dir).map_err(|e| e.to_string())?;
    }
    crate::datadir::write_private_file(&path, text.as_bytes()).map_err(|e| e.to_string())
}

/// The nftables table that keeps the VPN to the box (see [`interface_config`]).
pub const NFT_TABLE: &str = "tavla-vpn";

/// The box's interface file for `wg-quick`, with every pupil's peer. Bringing it up also adds
/// a firewall rule that forwards nothing to or from the interface, whatever the host's
/// `ip_forward` is: a pupil who edits their config to route the school's network through the
/// tunnel reaches the box and nothing behind it.
pub fn interface_config(box_keys: &BoxKeys, peers: &[Peer]) -> String {
    let mut out = format!(
        "# Written by Tavla; changes here are overwritten. Start with: wg-quick up <this file>\n\
         [Interface]\n\
         Address = {}\n\
         ListenPort = {}\n\
         PrivateKey = {}\n\
         PostUp = nft add table inet {NFT_TABLE}; nft 'add chain inet {NFT_TABLE} forward {{ type filter hook forward priority -10; policy accept; }}'; nft add rule inet {NFT_TABLE} forward iifname %i drop; nft add rule inet {NFT_TABLE} forward oifname %i drop\n\
         PostDown = nft delete table inet {NFT_TABLE}\n",
        box_keys.address, box_keys.listen_port, box_keys.private_key
    );
    for peer in peers {
        out.push_str(&format!(
            "\n[Peer]\n# class {} pupil {}\nPublicKey = {}\nAllowedIPs = {}/32\n",
            peer.class_id, peer.pupil_id, peer.public_key, peer.address
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn config() -> VpnConfig {
        VpnConfig {
            subnet: "10.8.0.0/29".parse().unwrap(),
            listen_port: 51820,
            endpoint: Some("skole.example:51820".into()),
        }
    }

    #[test]
    fn pupils_get_the_next_free_address_and_reach_only_the_box() {
        let store = MemoryStore::new();
        let box_keys = init(&store, &config()).unwrap();
        assert_eq!(box_keys.address.to_string(), "10.8.0.1/29");
        assert_eq!(
            init(&store, &config()).unwrap().public_key,
            box_keys.public_key,
            "made once"
        );
        let ada = add_pupil(&store, &"c".into(), &"ada".into(), "skole.example:51820", 1).unwrap();
        assert_eq!(ada.peer.address.to_string(), "10.8.0.2");
        assert!(
            ada.config.contains("AllowedIPs = 10.8.0.1/32"),
            "{}",
            ada.config
        );
        assert!(ada
            .config
            .contains(&format!("PublicKey = {}", box_keys.public_key)));
        assert!(
            !ada.config.contains(&box_keys.private_key),
            "the box's key stays on the box"
        );
        let bo = add_pupil(&store, &"c".into(), &"bo".into(), "e:1", 1).unwrap();
        assert_eq!(bo.peer.address.to_string(), "10.8.0.3");
        // A new config for Ada replaces the old one (a lost file stops working).
        let again = add_pupil(&store, &"c".into(), &"ada".into(), "e:1", 2).unwrap();
        assert_ne!(again.peer.public_key, ada.peer.public_key);
        assert_eq!(peers(&store).unwrap().len(), 2);
        let file = interface_config(&box_keys, &peers(&store).unwrap());
        assert!(
            file.contains("forward iifname %i drop") && file.contains("forward oifname %i drop"),
            "nothing is forwarded through the tunnel: {file}"
        );
        assert!(file.contains(&format!(
            "PublicKey = {}\nAllowedIPs = 10.8.0.3/32",
            bo.peer.public_key
        )));
        assert!(
            !file.contains(&ada.peer.public_key),
            "the replaced key is gone"
        );
        // /29: hosts .1 to .6; the box has .1.
        for pupil in ["c1", "c2", "c3"] {
            add_pupil(&store, &"c".into(), &pupil.into(), "e:1", 1).unwrap();
        }
        assert!(matches!(
            add_pupil(&store, &"c".into(), &"full".into(), "e:1", 1),
            Err(VpnError::Full)
        ));
        assert!(remove_pupil(&store, &"c".into(), &"bo".into()).unwrap());
        assert_eq!(
            add_pupil(&store, &"c".into(), &"late".into(), "e:1", 1)
                .unwrap()
                .peer
                .address
                .to_string(),
            "10.8.0.3"
        );
    }

    #[test]
    fn nothing_is_issued_before_the_vpn_is_set_up() {
        let store = MemoryStore::new();
        assert!(matches!(
            add_pupil(&store, &"c".into(), &"ada".into(), "e:1", 1),
            Err(VpnError::NotSetUp)
        ));
    }
}
