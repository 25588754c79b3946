//! What the VPN keeps about a pupil: their peer (public key, address, when it was made).

use serde_json::json;

use super::{peer_key, Peer};
use crate::privacy::{remove_key, Category, Held, Keeper, Subject};
use crate::store::{Store, StoreError, StoreExt, Tree};

pub struct VpnPeers;

impl Keeper for VpnPeers {
    fn name(&self) -> &'static str {
        "VPN access"
    }

    fn trees(&self) -> &'static [Tree] {
        &[Tree::Vpn]
    }

    fn holds(&self, store: &dyn Store, subject: &Subject) -> Result<Vec<Held>, StoreError> {
        let peer: Option<Peer> =
            store.get_json(Tree::Vpn, &peer_key(&subject.class_id, &subject.pupil_id))?;
        Ok(peer
            .map(|p| Held::Record {
                category: Category::Vpn,
                value: json!({ "address": p.address.to_string(), "created_ms": p.created_ms }),
            })
            .into_iter()
            .collect())
    }

    fn forget(&self, store: &dyn Store, subject: &Subject) -> Result<usize, StoreError> {
        remove_key(
            store,
            Tree::Vpn,
            &peer_key(&subject.class_id, &subject.pupil_id),
        )
    }
}
