//! How a document is described to the web client (lists, a document's page, a new copy).

use serde_json::{json, Value};

use super::state::AppState;
use crate::auth::{can, Action, Who};
use crate::docs::access::Resolved;

/// Characters of text in a teacher's preview of each document.
const PREVIEW_CHARS: usize = 240;

/// A document as the caller sees it; `preview` adds the start of its text (teachers' overview).
pub(super) fn describe(state: &AppState, who: &Who, resolved: &Resolved, preview: bool) -> Value {
    let mut entry = json!({
        "name": resolved.name.to_string(),
        "kind": resolved.name.kind(),
        "title": resolved.owner_name,
        "group": resolved.group_number,
        "copy_title": resolved.title,
        "read_only": resolved.settings.read_only,
        "writable": can(who, Action::WriteDoc(resolved.facts())),
    });
    if preview {
        // A damaged document still lists (its preview is empty); opening it reports the damage.
        entry["preview"] = state
            .services
            .docs
            .preview(&resolved.name.to_string(), PREVIEW_CHARS)
            .unwrap_or_default()
            .into();
    }
    entry
}
