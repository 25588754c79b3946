//! The other classroom boxes on the school network (found with mDNS), for the teacher's page:
//! where a class's work could follow it once boxes are paired.

use super::Services;
use crate::auth::Who;
use crate::discovery::FoundBox;
use crate::error::ServiceError;

/// What the teacher's page shows under "boxes nearby".
pub struct NearbyView {
    /// Whether this box looks at all (`[discovery] enabled`).
    pub enabled: bool,
    /// This box's own name on the network (`<name>.local`).
    pub own_name: String,
    pub boxes: Vec<FoundBox>,
}

/// The boxes nearby; blocks for a moment when the last look is stale (call it off the async
/// threads).
pub fn boxes(s: &Services, who: &Who) -> Result<NearbyView, ServiceError> {
    if !matches!(who, Who::Teacher { .. }) {
        return Err(ServiceError::Forbidden);
    }
    let boxes = s.nearby.boxes().unwrap_or_else(|e| {
        tracing::warn!("looking for boxes nearby failed: {e}");
        Vec::new()
    });
    Ok(NearbyView {
        enabled: s.nearby.enabled(),
        own_name: s.nearby.own_name().to_string(),
        boxes,
    })
}
