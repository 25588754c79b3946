//! Whether the box can do its work (what `/healthz` says), and bringing a failed store back
//! once its disk has room again.

use super::Services;
use crate::store::Health;

/// What the box can do now, worst first in what `/healthz` answers.
pub fn check(s: &Services) -> Health {
    s.store.health()
}

/// Reopens a store that failed, if the disk has room again (see `store::Guarded`). Returns
/// whether the store works now. Runs on a blocking thread: reopening reads the database.
pub async fn recover_store(s: &Services) -> bool {
    if !matches!(s.store.health(), Health::Failed(_)) {
        return true;
    }
    let store = s.store.clone();
    match tokio::task::spawn_blocking(move || store.recover()).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::debug!("the store is not reopened yet: {e}");
            false
        }
        Err(e) => {
            tracing::error!("reopening the store stopped: {e}");
            false
        }
    }
}
