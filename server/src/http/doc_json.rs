//! How a document is described to the web client (lists, a document's page, a new copy).

use serde_json::{json, Value};

use crate::service::docs::DocEntry;

/// A document as the caller sees it (with the start of its text in the teacher's overview).
pub(super) fn describe(entry: &DocEntry) -> Value {
    let resolved = &entry.resolved;
    let mut json = json!({
        "name": resolved.name.to_string(),
        "kind": resolved.name.kind(),
        "title": resolved.owner_name,
        "group": resolved.group_number,
        "copy_title": resolved.title,
        "read_only": resolved.settings.read_only,
        "writable": entry.writable,
    });
    if let Some(preview) = &entry.preview {
        json["preview"] = preview.as_str().into();
    }
    json
}
