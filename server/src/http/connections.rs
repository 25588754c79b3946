//! How many HTTPS connections each client address holds, so one device (a pupil's script)
//! cannot take every slot the box has: over its share, a new connection is closed at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Connections {
    per_address: Mutex<HashMap<IpAddr, usize>>,
    cap: usize,
}

/// One open connection, counted for its address until dropped.
pub struct Slot {
    connections: Arc<Connections>,
    address: IpAddr,
}

impl Connections {
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            per_address: Mutex::new(HashMap::new()),
            cap,
        })
    }

    fn counts(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.per_address.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a new connection from `address`, or `None` when it holds its share.
    pub fn open(self: &Arc<Self>, address: IpAddr) -> Option<Slot> {
        let mut counts = self.counts();
        let count = counts.entry(address).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            connections: self.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.connections.counts();
        if let Some(count) = counts.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_share_and_gets_slots_back() {
        let connections = Connections::new(2);
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.2".parse().unwrap(), "127.0.0.1".parse().unwrap());
        let first = connections.open(a).unwrap();
        let _second = connections.open(a).unwrap();
        assert!(connections.open(a).is_none(), "over its share");
        assert!(
            connections.open(b).is_some(),
            "another address is not affected"
        );
        drop(first);
        assert!(
            connections.open(a).is_some(),
            "a closed connection frees its slot"
        );
    }
}
